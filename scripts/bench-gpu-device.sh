#!/usr/bin/env bash
# The GPU benchmark on the lent GPU machine (x86-64 Linux, no network), in one command; BENCHMARKS.md ("GPU") gives
# the device call, which carries .gl and .gpu-bench (made here by `npm run bench:gpu:prepare`). Writes gpu-bench.md,
# gpu-bench.json and log into $OUT (the device's output folder; .gpu-bench/out when run elsewhere).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-$PWD/.gpu-bench/out}"
mkdir -p "$OUT"
exec > >(tee "$OUT/log") 2>&1

# Vulkan/EGL loaders, as the device README says (the NVIDIA driver itself is mounted there).
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig

unxz_to() { # unxz_to FILE.xz DEST: xz where installed, else Python's lzma (python3 is on that machine)
  if command -v xz >/dev/null; then xz -dc "$1" >"$2"
  else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"; fi
}
unxz_to .gpu-bench/node.xz /tmp/cw-node && chmod +x /tmp/cw-node || exit 1
unxz_to .gpu-bench/webgpu/dist/linux-x64/dawn.node.xz .gpu-bench/webgpu/dist/linux-x64/dawn.node || exit 1
echo "node $(/tmp/cw-node --version); $(nvidia-smi -L 2>&1 | head -1)"

bench() { timeout "$1" /tmp/cw-node .gpu-bench/bench-gpu.mjs --data .gpu-bench --out "$OUT" --budget-s 330 "${@:2}"; }
bench 450
rc=$?
if [ "$rc" = 3 ]; then
  # No adapter: point the Vulkan loader at the NVIDIA driver's manifest, as the device README says.
  echo "no adapter with the default Vulkan search path; retrying with the NVIDIA ICD"
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  bench 420
  rc=$?
fi
echo "bench-gpu exit code: $rc"
exit "$rc"
