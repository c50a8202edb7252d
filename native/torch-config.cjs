// Prints the compiler/linker flags node-gyp needs to build against libtorch.
//
//   node torch-config.cjs include|libs|defines|std
//
// Default: Debian's libtorch-dev (headers in /usr/include, libraries on the
// system path). With TORCH_DIR set (a PyTorch install's `torch` package
// directory, or an unpacked libtorch), its headers and libraries are used and
// CUDA libraries are linked when present.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const torchDir = process.env.TORCH_DIR;
const what = process.argv[2];

function debian() {
  if (what === 'include') return ['/usr/include/torch/csrc/api/include'];
  if (what === 'libs') return ['-ltorch', '-ltorch_cpu', '-lc10'];
  if (what === 'std') return ['-std=c++17'];
  return [];
}

// TORCH_VERSION_MAJOR of a PyTorch install's headers (2.x keeps it in
// torch/headeronly/version.h, 1.x in torch/csrc/api/include/torch/version.h).
function majorVersion(include) {
  for (const file of ['torch/headeronly/version.h', 'torch/csrc/api/include/torch/version.h']) {
    const full = path.join(include, file);
    if (!fs.existsSync(full)) continue;
    const match = /#define TORCH_VERSION_MAJOR (\d+)/.exec(fs.readFileSync(full, 'utf8'));
    if (match) return Number(match[1]);
  }
  return 1;
}

// A libc10 built with the new libstdc++ ABI has std::__cxx11 in its symbols.
function usesCxx11Abi(libDir) {
  const lib = path.join(libDir, 'libc10.so');
  return fs.readFileSync(lib).includes('St7__cxx11');
}

function fromTorchDir() {
  const include = path.join(torchDir, 'include');
  const lib = path.join(torchDir, 'lib');
  if (!fs.existsSync(path.join(include, 'ATen', 'ATen.h')) || !fs.existsSync(path.join(lib, 'libc10.so'))) {
    console.error(`TORCH_DIR=${torchDir} has no include/ATen/ATen.h or lib/libc10.so; point it at a PyTorch install's torch/ directory`);
    process.exit(1);
  }
  if (what === 'include') return [include, path.join(include, 'torch', 'csrc', 'api', 'include')];
  if (what === 'defines') return [`_GLIBCXX_USE_CXX11_ABI=${usesCxx11Abi(lib) ? 1 : 0}`];
  // PyTorch 2.x headers are written for C++20 (e.g. default initialisers of bit-fields in AutogradState.h).
  if (what === 'std') return [majorVersion(include) >= 2 ? '-std=c++20' : '-std=c++17'];
  const libs = [`-L${lib}`, `-Wl,-rpath,${lib}`, '-Wl,--no-as-needed', '-ltorch', '-ltorch_cpu', '-lc10'];
  for (const cuda of ['torch_cuda', 'c10_cuda']) {
    if (fs.existsSync(path.join(lib, `lib${cuda}.so`))) libs.push(`-l${cuda}`);
  }
  libs.push('-Wl,--as-needed');
  return libs;
}

console.log((torchDir ? fromTorchDir() : debian()).join(' '));
