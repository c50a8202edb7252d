// The device the device-aware tests put their models on: cpu, or what
// TTTNN_TEST_DEVICE names (scripts/gpu-check.sh runs them with cuda on a
// machine with a GPU and a CUDA build of the addon).
export const TEST_DEVICE = process.env['TTTNN_TEST_DEVICE'] ?? 'cpu';
