"""A national-scale synthetic population, generated block by block straight into the lake.

The same ideas as the synthetic city (latent traits, households, organizations with legal
representatives and employees, the 14 sources) vectorised with numpy over blocks of
`BLOCK` people. Each block draws from its own generator, seeded with (seed, block), so the
same seed gives the same data whatever the chunk size; a chunk (many blocks) is the unit that is
built in memory and written, so memory is bounded by the chunk size, not the population.
"""
