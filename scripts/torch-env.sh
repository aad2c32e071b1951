# shellcheck shell=bash
# Points the compiler, linker and loader at a pip-installed PyTorch instead of Debian's libtorch,
# so that `swift build` compiles the C shim against it (README, "Building against another
# libtorch"). Source it with the site-packages folder that holds torch/ (and, for CUDA builds,
# the nvidia/ wheels torch depends on):
#
#   source scripts/torch-env.sh "$(python3 -c 'import site; print(site.getsitepackages()[0])')"
#   swift build -c release $TORCH_SWIFT_FLAGS
#
# With a CUDA torch it also sets VLP_WITH_NCCL=1, which compiles the NCCL backend into the shim.
# That needs the CUDA headers torch's wheels do not carry: pip install nvidia-cuda-nvcc-cu12
# nvidia-cuda-cccl-cu12 for a CUDA 12 torch, nvidia-cuda-nvcc==13.0.* nvidia-cuda-cccl==13.0.* for
# a CUDA 13 one (the version of torch's nvidia-cuda-runtime wheel).
site="${1:?usage: source scripts/torch-env.sh SITE_PACKAGES}"
if [ ! -f "$site/torch/include/torch/csrc/api/include/torch/version.h" ]; then
    echo "torch-env: no torch headers under $site/torch/include" >&2
    # return when sourced (as meant); exit when run as a script by mistake
    # shellcheck disable=SC2317
    return 1 2>/dev/null || exit 1
fi
include="$site/torch/include:$site/torch/include/torch/csrc/api/include"
library="$site/torch/lib"
for package in "$site"/nvidia/*/; do
    [ -d "$package/include" ] && include="$include:${package%/}/include"
    [ -d "$package/lib" ] && library="$library:${package%/}/lib"
done
# clang searches LIBRARY_PATH after the system folders, where Debian's libtorch may be, so the
# link folders also go on the command line: swift build $TORCH_SWIFT_FLAGS
TORCH_SWIFT_FLAGS=""
IFS=: read -r -a folders <<< "$library"
for folder in "${folders[@]}"; do TORCH_SWIFT_FLAGS="$TORCH_SWIFT_FLAGS -Xlinker -L$folder"; done
export TORCH_SWIFT_FLAGS
export CPATH="$include${CPATH:+:$CPATH}"
export LIBRARY_PATH="$library${LIBRARY_PATH:+:$LIBRARY_PATH}"
export LD_LIBRARY_PATH="$library${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if [ -f "$site/torch/lib/libtorch_cuda.so" ]; then
    # CUDA 12 wheels put each component in its own folder (nvidia/cuda_nvcc/include/crt,
    # nvidia/cuda_cccl/include/nv); CUDA 13 wheels put them all in nvidia/cu13/include.
    has() { compgen -G "$site/nvidia/*/include/$1" >/dev/null; }
    if has nccl.h && has crt && has nv; then
        export VLP_WITH_NCCL=1
    else
        echo "torch-env: CUDA torch without nccl.h, crt/ (nvidia-cuda-nvcc) or nv/ (nvidia-cuda-cccl): building without NCCL" >&2
    fi
    unset -f has
fi
# torch 2.10 and later keep the numbers in torch/headeronly/version.h, which version.h includes
version=$(cat "$site/torch/include/torch/csrc/api/include/torch/version.h" "$site/torch/include/torch/headeronly/version.h" 2>/dev/null |
    sed -n 's/^#define TORCH_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$/\2/p' | paste -sd.)
echo "torch-env: torch $version${VLP_WITH_NCCL:+ with NCCL} from $site" >&2
