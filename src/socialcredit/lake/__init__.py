"""The record lake: hive-partitioned Parquet for national-scale data (docs/scale.md).

layout.py     paths and the schemas of every lake table
write.py      atomic Parquet writes; records partitioned by occurred year and month
read.py       the lake as engine inputs (DuckDB views over read_parquet), with the store's
retention.py  purge whole record partitions older than the policies' longest `expires`
ingest.py     the record log of `accept_records` that appends to the lake
run.py        evaluate the lake; outcomes to Parquet (and on request to the store)
"""
