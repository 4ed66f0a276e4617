using TorchSharp;
using TransformerLab.Data;
using TransformerLab.Attention;
using TransformerLab.Runtime;
using Xunit;
using static TorchSharp.torch;

namespace TransformerLab.Tests.Model;

/// <summary>
/// The efficient attention variants against their definitions: local attention is full attention under a band mask,
/// linear attention's recurrent form is its parallel causal form, and every variant keeps causality and ignores padding.
/// </summary>
public sealed class EfficientAttentionTests
{
    static (Tensor Q, Tensor K, Tensor V) Inputs(long batch = 2, long heads = 2, long time = 11, long d = 8, long seed = 7)
    {
        TorchRuntime.Seed(seed);
        return (torch.randn(batch, heads, time, d), torch.randn(batch, heads, time, d), torch.randn(batch, heads, time, d));
    }

    /// <summary>Key mask <c>[batch, 1, 1, time]</c>: the second row's last <paramref name="padded"/> keys are padding.</summary>
    static Tensor KeyMask(long batch, long time, long padded)
    {
        var mask = torch.ones(batch, 1, 1, time, dtype: ScalarType.Bool);
        mask[1, 0, 0, TensorIndex.Slice(time - padded, time)] = false;
        return mask;
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(3, false)]
    [InlineData(4, true)]
    [InlineData(20, false)] // a window wider than the sequence: full attention
    public void Local_attention_equals_full_attention_under_the_band_mask(long window, bool causal)
    {
        var (q, k, v) = Inputs();
        var keyMask = KeyMask(2, 11, padded: 3);
        var blocked = LocalAttention.Forward(q, k, v, window, causal, keyMask);
        var reference = nn.functional.scaled_dot_product_attention(q, k, v, LocalAttention.Band(11, window, causal).logical_and(keyMask));
        Reference.AssertClose(reference, blocked, atol: 1e-5);
    }

    [Fact]
    public void Linear_attention_recurrent_steps_equal_its_parallel_causal_form_and_the_formula()
    {
        var (q, k, v) = Inputs(time: 9);
        var parallel = LinearAttention.Causal(q, k, v);
        using var state = new LinearAttention.State();
        var steps = torch.cat(Enumerable.Range(0, 9).Select(t =>
            LinearAttention.Step(q[.., .., t..(t + 1)], k[.., .., t..(t + 1)], v[.., .., t..(t + 1)], state)).ToArray(), 2);
        Reference.AssertClose(parallel, steps, atol: 1e-5);
        Assert.Equal(new long[] { 2, 2, 8, 8 }, state.S!.shape); // the state does not grow with the steps

        // the formula written out: weights φ(q_i)·φ(k_j) over j ≤ i, normalised
        var scores = LinearAttention.FeatureMap(q).matmul(LinearAttention.FeatureMap(k).transpose(-2, -1)) * Masks.Causal(9)[0, 0].to(ScalarType.Float32);
        var formula = (scores / scores.sum(-1, keepdim: true)).matmul(v);
        Reference.AssertClose(formula, parallel, atol: 1e-5);
    }

    [Fact]
    public void Causal_variants_leak_nothing_from_the_future()
    {
        var (q, k, v) = Inputs(time: 12);
        var (q2, k2, v2) = (q.clone(), k.clone(), v.clone());
        foreach (var t in new[] { q2, k2, v2 }) t[.., .., 8..] = torch.randn(2, 2, 4, 8); // change positions 8 … 11 only
        foreach (var (name, attend) in new (string, Func<Tensor, Tensor, Tensor, Tensor>)[]
                 {
                     ("linear, parallel", (a, b, c) => LinearAttention.Causal(a, b, c)),
                     ("local", (a, b, c) => LocalAttention.Forward(a, b, c, window: 3, causal: true)),
                     ("strided", (a, b, c) => StridedSparseAttention.Forward(a, b, c, stride: 3)),
                 })
        {
            var before = attend(q, k, v)[.., .., ..8];
            var after = attend(q2, k2, v2)[.., .., ..8];
            Assert.True(Reference.Identical(before, after), $"{name}: a future position changed an earlier output");
        }
    }

    [Fact]
    public void Padding_keys_change_nothing_for_linear_and_linformer_attention()
    {
        var (q, k, v) = Inputs(batch: 1, time: 7);
        // the same sequence with 3 padded positions appended: the real positions' outputs must not change
        var padded = new Func<Tensor, Tensor>(x => torch.cat([x, torch.randn(1, 2, 3, 8)], 2));
        var (qp, kp, vp) = (padded(q), padded(k), padded(v));
        var keyMask = torch.cat([torch.ones(1, 1, 1, 7, dtype: ScalarType.Bool), torch.zeros(1, 1, 1, 3, dtype: ScalarType.Bool)], 3);
        Reference.AssertClose(LinearAttention.Forward(q, k, v), LinearAttention.Forward(qp, kp, vp, keyMask)[.., .., ..7], atol: 1e-5);
        TorchRuntime.Seed(3);
        using var linformer = new LinformerAttention(rank: 4, maxLength: 16);
        Reference.AssertClose(linformer.forward(q, k, v), linformer.forward(qp, kp, vp, keyMask)[.., .., ..7], atol: 1e-5);
    }

    [Fact]
    public void The_strided_pattern_reads_about_two_strides_of_keys_and_reaches_every_earlier_key_in_two_steps()
    {
        const long time = 36, stride = 6;
        var pattern = StridedSparseAttention.Pattern(time, stride);
        Assert.True(Reference.Identical(pattern, pattern.logical_and(Masks.Causal(time)[0, 0])));            // causal
        Assert.True(pattern.sum(1).max().item<long>() <= 2 * stride);                                       // ~2·√n keys per query
        var twoSteps = pattern.to(ScalarType.Float32).matmul(pattern.to(ScalarType.Float32)).gt(0);
        Assert.True(Reference.Identical(twoSteps, Masks.Causal(time)[0, 0]));                                 // every j ≤ i within two hops
        // and attention under it ignores a key outside the pattern: key 0 is not in query 13's row (distance 13, stride 6)
        var (q, k, v) = Inputs(time: time, d: 4);
        var k2 = k.clone();
        var v2 = v.clone();
        k2[.., .., 0] = torch.randn(2, 2, 4);
        v2[.., .., 0] = torch.randn(2, 2, 4);
        Assert.True(Reference.Identical(StridedSparseAttention.Forward(q, k, v, stride)[.., .., 13], StridedSparseAttention.Forward(q, k2, v2, stride)[.., .., 13]));
    }

    [Fact]
    public void An_encoder_with_a_window_wider_than_its_inputs_computes_what_the_full_encoder_does()
    {
        var config = Reference.SmallConfig();
        using var full = Reference.NewModel(config, seed: 5);
        using var local = Reference.NewModel(config with { Attention = AttentionKind.Local, AttentionWindow = 64 }, seed: 5);
        TorchRuntime.Seed(6);
        var source = Reference.Tokens(3, 10, config.SourceVocabulary);
        source[2, 7..] = 0; // padding
        var target = Reference.Tokens(3, 6, config.TargetVocabulary);
        Reference.AssertClose(full.forward(source, target), local.forward(source, target), atol: 1e-5);
    }

    [Theory]
    [InlineData(AttentionKind.Local)]
    [InlineData(AttentionKind.Strided)]
    [InlineData(AttentionKind.Linear)]
    [InlineData(AttentionKind.Linformer)]
    public void Every_encoder_attention_trains_through_the_one_trainer(AttentionKind kind)
    {
        var folder = Path.Combine(Path.GetTempPath(), "tlab-attn-" + Guid.NewGuid().ToString("N"));
        try
        {
            var s = TransformerLab.Training.TrainingSettings.For(TaskKind.Reverse)
                .WithTransformer(m => m with { DModel = 32, Heads = 2, DFF = 64, EncoderLayers = 1, DecoderLayers = 1, Attention = kind, AttentionWindow = 3, AttentionStride = 3, AttentionRank = 3 })
                .WithTask(t => t with { Symbols = 6, MinLength = 4, MaxLength = 8, TrainSize = 600, DevSize = 20, TestSize = 20 })
                .WithLoop(l => l with { BatchSize = 32, MaxSteps = 60, EvalEvery = 60, LogEvery = 10 })
                .WithOptimiser(o => o with { Warmup = 10, Lr = 3e-3 }) with { Threads = 1 };
            var data = s.LoadData(Workspace.Root(AppContext.BaseDirectory));
            var summary = new TransformerLab.Training.Trainer(s, data, folder).Run();
            Assert.Equal(TransformerLab.Training.RunStatus.Done, summary.Status);
            var losses = TransformerLab.Runtime.Csv.Read(Path.Combine(folder, "steps.csv")).Select(r => r["loss"]).ToList();
            Assert.True(losses[^1] < 0.8 * losses[0], $"{kind}: loss {losses[0]:F3} → {losses[^1]:F3} did not fall");
            var checkpoint = TransformerLab.Training.Checkpoint.Load(Path.Combine(folder, "last.ckpt"));
            Assert.Equal(kind, checkpoint.Settings.Model.Transformer.Attention); // restores with its own attention
            using var model = checkpoint.RestoreModel(torch.CPU);
            Assert.Equal(kind == AttentionKind.Linformer, model.named_parameters().Any(p => p.name.Contains("kernel")));
        }
        finally { if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true); }
    }
}
