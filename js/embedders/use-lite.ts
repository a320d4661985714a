// The bundled USE lite's calibrated threshold, in a module of its own: the edge worker's
// configuration needs it without pulling ONNX Runtime into the remote-embedding bundle.

/**
 * The cosine threshold chosen for USE lite by the quality harness (`npm run bench -- quality`):
 * the most right hits on GPTCache's mock_data with at most 2% wrong hits (int8 default: 44.8%
 * right, 1.9% wrong; on QQP validation 19.2% of duplicates and 4.3% of non-duplicates hit; fp32
 * within 1.3 points of each). See README.
 */
export const USE_LITE_THRESHOLD = 0.95;
