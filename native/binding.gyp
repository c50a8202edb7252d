{
  "targets": [
    {
      "target_name": "tttnn_native",
      "sources": [
        "src/addon.cc",
        "src/tensor_registry.cc",
        "src/tensor_ops.cc",
        "src/optimizers.cc",
        "src/runtime.cc",
        "src/caching_allocator.cc",
        "src/faiss_index.cc",
        "src/cpu_features.cc",
        "src/gemm_dispatch.cc",
        "src/autocast.cc",
        "src/op_profiler.cc",
        "src/masked_softmax.cc",
        "src/causal_attention.cc",
        "src/linear_cross_entropy.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(node torch-config.cjs include)"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "<!@(node torch-config.cjs defines)"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
      "cflags_cc": ["<!@(node torch-config.cjs std)", "-O2", "-fexceptions", "-frtti", "-Wno-unused-parameter"],
      "libraries": ["<!@(node torch-config.cjs libs)", "-lfaiss", "-llapack", "-lblas", "-lgomp", "-ldl"]
    }
  ]
}
