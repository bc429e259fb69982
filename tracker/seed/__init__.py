"""The demo portfolio and generated portfolios: the seeder (`demo`, which loads the files in
data/demo/), the demo accounts read from those files (`accounts`), and the generator
(`generate`)."""
