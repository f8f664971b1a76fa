{
  "targets": [
    {
      "target_name": "introdl_native",
      "sources": ["native/addon.c", "native/conv.c", "native/tile.c", "native/channels.c", "native/packed.c"],
      "include_dirs": ["/usr/include/openblas"],
      "libraries": ["-lopenblas"],
      "cflags_c": ["-O3", "-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
