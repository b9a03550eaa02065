"""Region names for GB/T 2260 administrative division codes, in English and Simplified Chinese.

Source: the Ministry of Civil Affairs of the PRC, 《中华人民共和国县以上行政区划代码》 (the
county-level and higher division codes, 2023 edition, which GB/T 2260 publishes), and the
official English names the same ministry and the provincial governments use. The table holds
every province-level division (and 81/82/83, which the residence permits of Hong Kong, Macao
and Taiwan residents use), and the prefecture- and county-level divisions that the demo city
and the tests use (Weihai and its districts; Beijing's Chaoyang). A code that is not in it is
named by its nearest known parent (`Shandong Province, region 379999`), never shown bare.

No maintained PyPI package gives these names in both languages (the packages that map codes to
names, such as cpca, give Chinese only); to name more regions, add rows here.
"""

from __future__ import annotations

from socialcredit.i18n import _, text

REGIONS: dict[str, dict[str, str]] = {
    # province level
    "110000": {"en": "Beijing", "zh-CN": "北京市"},
    "120000": {"en": "Tianjin", "zh-CN": "天津市"},
    "130000": {"en": "Hebei Province", "zh-CN": "河北省"},
    "140000": {"en": "Shanxi Province", "zh-CN": "山西省"},
    "150000": {"en": "Inner Mongolia Autonomous Region", "zh-CN": "内蒙古自治区"},
    "210000": {"en": "Liaoning Province", "zh-CN": "辽宁省"},
    "220000": {"en": "Jilin Province", "zh-CN": "吉林省"},
    "230000": {"en": "Heilongjiang Province", "zh-CN": "黑龙江省"},
    "310000": {"en": "Shanghai", "zh-CN": "上海市"},
    "320000": {"en": "Jiangsu Province", "zh-CN": "江苏省"},
    "330000": {"en": "Zhejiang Province", "zh-CN": "浙江省"},
    "340000": {"en": "Anhui Province", "zh-CN": "安徽省"},
    "350000": {"en": "Fujian Province", "zh-CN": "福建省"},
    "360000": {"en": "Jiangxi Province", "zh-CN": "江西省"},
    "370000": {"en": "Shandong Province", "zh-CN": "山东省"},
    "410000": {"en": "Henan Province", "zh-CN": "河南省"},
    "420000": {"en": "Hubei Province", "zh-CN": "湖北省"},
    "430000": {"en": "Hunan Province", "zh-CN": "湖南省"},
    "440000": {"en": "Guangdong Province", "zh-CN": "广东省"},
    "450000": {"en": "Guangxi Zhuang Autonomous Region", "zh-CN": "广西壮族自治区"},
    "460000": {"en": "Hainan Province", "zh-CN": "海南省"},
    "500000": {"en": "Chongqing", "zh-CN": "重庆市"},
    "510000": {"en": "Sichuan Province", "zh-CN": "四川省"},
    "520000": {"en": "Guizhou Province", "zh-CN": "贵州省"},
    "530000": {"en": "Yunnan Province", "zh-CN": "云南省"},
    "540000": {"en": "Xizang Autonomous Region", "zh-CN": "西藏自治区"},
    "610000": {"en": "Shaanxi Province", "zh-CN": "陕西省"},
    "620000": {"en": "Gansu Province", "zh-CN": "甘肃省"},
    "630000": {"en": "Qinghai Province", "zh-CN": "青海省"},
    "640000": {"en": "Ningxia Hui Autonomous Region", "zh-CN": "宁夏回族自治区"},
    "650000": {"en": "Xinjiang Uygur Autonomous Region", "zh-CN": "新疆维吾尔自治区"},
    "710000": {"en": "Taiwan Province", "zh-CN": "台湾省"},
    "810000": {"en": "Hong Kong SAR", "zh-CN": "香港特别行政区"},
    "820000": {"en": "Macao SAR", "zh-CN": "澳门特别行政区"},
    "830000": {"en": "Taiwan (residence permit)", "zh-CN": "台湾（居住证）"},
    # prefecture and county level: the demo city (Weihai, Shandong) and the tests
    "110105": {"en": "Chaoyang District, Beijing", "zh-CN": "北京市朝阳区"},
    "371000": {"en": "Weihai, Shandong", "zh-CN": "山东省威海市"},
    "371002": {"en": "Huancui District, Weihai", "zh-CN": "威海市环翠区"},
    "371003": {"en": "Wendeng District, Weihai", "zh-CN": "威海市文登区"},
    "371082": {"en": "Rongcheng, Weihai", "zh-CN": "威海市荣成市"},
    "371083": {"en": "Rushan, Weihai", "zh-CN": "威海市乳山市"},
}


def region_name(code: str | None) -> str:
    """The region's name in the language in use; a code not in the table by its nearest known
    parent (the prefecture, then the province) and the code; '' for none."""
    if not code:
        return ""
    found = REGIONS.get(code)
    if found:
        return text(found)
    for parent in (code[:4] + "00", code[:2] + "0000"):
        if parent != code and parent in REGIONS:
            return _("{region}, region {code}", region=text(REGIONS[parent]), code=code)
    return _("region {code}", code=code)
