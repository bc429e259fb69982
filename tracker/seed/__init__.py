"""The demo portfolio and generated portfolios: the seeder (`demo`) and the generator
(`generate`)."""
