"""Names only (see tools/llada/shim/README.md)."""


class Cache:
    pass


class DynamicCache(Cache):
    pass


class StaticCache(Cache):
    pass
