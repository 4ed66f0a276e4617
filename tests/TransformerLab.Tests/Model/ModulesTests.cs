using TorchSharp;
using TransformerLab.Data;
using TransformerLab.Evaluation;
using TransformerLab.Model;
using TransformerLab.Runtime;
using TransformerLab.Training;
using Xunit;
using static TransformerLab.Tests.Model.Reference;

namespace TransformerLab.Tests.Model;

/// <summary>The AT and the NAT composed of the same Encoder, Decoder and OutputHead modules, and checkpoints across that change.</summary>
public class ModulesTests
{
    [Theory]
    [InlineData(true, NormPlacement.Pre)]
    [InlineData(false, NormPlacement.Post)]
    public void The_seed_order_holds_every_parameter_once(bool tie, NormPlacement norm)
    {
        using var at = new EncoderDecoder(SmallConfig(norm) with { TieEmbeddings = tie });
        Assert.Equal(at.parameters().Select(p => p.Handle).Order(), at.ParametersInSeedOrder().Select(p => p.Handle).Order());
        using var nat = new NonAutoregressiveTransformer(new NonAutoregressiveConfig { Transformer = SmallConfig(norm) with { TieEmbeddings = tie, CausalMask = false } });
        Assert.Equal(nat.parameters().Select(p => p.Handle).Order(), nat.ParametersInSeedOrder().Select(p => p.Handle).Order());
    }

    [Fact]
    public void The_AT_and_the_NAT_get_the_same_encoder_from_one_seed_and_a_teacher_encoder_loads_into_a_NAT()
    {
        var c = SmallConfig(NormPlacement.Pre) with { TieEmbeddings = true };
        TorchRuntime.Seed(3);
        using var at = new EncoderDecoder(c);
        TorchRuntime.Seed(4);
        using var nat = new NonAutoregressiveTransformer(new NonAutoregressiveConfig { Transformer = c with { CausalMask = false } });
        nat.LoadEncoder(at);
        foreach (var ((name, a), (_, b)) in at.Encoder.named_parameters().Zip(nat.Encoder.named_parameters()))
            Assert.True((a - b).abs().max().item<float>() == 0, name);
    }

    [Fact]
    public void A_format_1_checkpoint_from_the_committed_store_loads_renamed_and_decodes_as_it_did()
    {
        // notebook 01's reverse model, trained before the Encoder/Decoder modules (flat names: encoder_layers.0…); its
        // summary.json records 0 dev sequence error at step 1,500
        var root = Workspace.Root(AppContext.BaseDirectory);
        var checkpoint = Checkpoint.Load(Path.Combine(root, "data", "runs", "train", "726523eb350b", "best.ckpt"));
        Assert.Equal(1, checkpoint.Format);
        var data = checkpoint.Settings.LoadData(root);
        Assert.True(checkpoint.HasVocabulariesOf(data));
        using var decoder = new CheckpointDecoder(checkpoint.Model, torch.CPU);
        var (metrics, _) = Evaluator.Decode(decoder, EvaluationItem.Group(data.Dev), torch.CPU, 64);
        Assert.Equal(0, metrics.SequenceErrorRate);
        Assert.Equal("encoder.layers.0.self_attn.w_q.weight", ModelCheckpoint.FormatOneName("encoder_layers.0.self_attn.w_q.weight"));
        Assert.Equal("output.bias", ModelCheckpoint.FormatOneName("output_bias"));
    }
}
