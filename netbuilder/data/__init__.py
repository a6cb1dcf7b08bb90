"""Data sets: the seed's own data, bundled digits, MNIST, and the user's files."""
