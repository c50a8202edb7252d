// Llama-3.2-1B's config.json (meta-llama/Llama-3.2-1B, as transformers 5
// writes it): the shape the Llama benchmarks build with random weights, so
// that nothing is downloaded.
export const LLAMA_3_2_1B = {
  vocab_size: 128256, hidden_size: 2048, intermediate_size: 8192, num_hidden_layers: 16, num_attention_heads: 32, num_key_value_heads: 8, head_dim: 64,
  max_position_embeddings: 131072, rms_norm_eps: 1e-5, tie_word_embeddings: true, bos_token_id: 128000, eos_token_id: 128001,
  rope_parameters: { rope_type: 'llama3', rope_theta: 500000, factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 },
};
