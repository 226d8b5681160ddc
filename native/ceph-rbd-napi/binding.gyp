{
  # System librbd/librados (Debian: librbd-dev, librados-dev). Override the
  # library names or add search paths with e.g.
  #   npm_config_rbd_libdir=/opt/ceph/lib node-gyp rebuild
  "variables": {
    "rbd_libdir%": "",
    "rbd_includedir%": ""
  },
  "targets": [
    {
      "target_name": "ceph_rbd_napi",
      "sources": [
        "src/addon.cc",
        "src/args.cc",
        "src/errors.cc",
        "src/handle.cc",
        "src/worker.cc",
        "src/cluster.cc",
        "src/ioctx.cc",
        "src/image.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_DISABLE_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags_cc!": ["-std=gnu++17", "-std=gnu++14", "-std=gnu++20"],
      "cflags_cc": ["-std=c++17", "-fvisibility=hidden", "-fvisibility-inlines-hidden", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "libraries": ["-lrbd", "-lrados"],
      "conditions": [
        ["rbd_includedir != ''", { "include_dirs": ["<(rbd_includedir)"] }],
        ["rbd_libdir != ''", {
          "libraries": ["-L<(rbd_libdir)", "-Wl,-rpath,<(rbd_libdir)"]
        }]
      ]
    }
  ]
}
