/// <summary>The quantized-weights suite's title and what its rows mean.</summary>
static class QuantBench
{
    public const string Title = "## Quantized weights (bitsandbytes formats)";

    public const string Description =
        "A 4096→4096 linear layer without bias (16.8M weights) at decode sizes (1 and 8 input rows) and a prefill size (128), and the decode model of the language-model suite with its linear layers quantized (lm_head and embeddings stay fp32). " +
        "Kiln rows: fp32 weights (`F.Linear`); `Linear4bit` with NF4 and double quantization (up to 8 rows the fused kernel reads the packed codes once and looks them up in a register; more rows run the blocked GEMM with each panel of the weight dequantized as it is packed); the same weight dequantized explicitly, then the GEMM; `Linear8bitLt` (int8 rows, weight-only). " +
        "PyTorch rows: fp32 `F.linear` for the fp32 row; for the NF4 rows bitsandbytes' own CPU fallback path in plain torch ops (unpack the nibbles, look up the code table, scale by the double-quantized absmax, then `F.linear` — `gemm_4bit`'s default backend, what a PyTorch user without a CUDA build of bitsandbytes runs); for the int8 row the codes widened and scaled, then `F.linear`; for the decode model the fp32 reference model (PyTorch has no quantized path for it on this CPU). " +
        "Bytes per parameter of NF4 with double quantization: 0.5 codes + 1/64 absmax code + 4/(64·256) nested absmax ≈ 0.516, plus two small code tables per layer. " +
        "Accuracy (samples/QLoraFineTune, 2026-12-04): the 4.5M-parameter Moby-Dick model's validation perplexity is 276.66 in fp32, 276.66 with LLM.int8 weights and 277.03 (+0.13 %) with NF4 + double quantization.";
}
