using TorchSharp;
using TransformerLab.Runtime;
using Xunit;
using static TorchSharp.torch;

namespace TransformerLab.Tests.Foundation;

/// <summary>LibTorch really loads in the test host and computes what a hand calculation says.</summary>
public class TorchSmokeTests
{
    public TorchSmokeTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void Matmul_matches_a_hand_computation()
    {
        using var a = torch.tensor(new float[] { 1, 2, 3, 4 }, [2, 2]);
        using var b = torch.tensor(new float[] { 5, 6, 7, 8 }, [2, 2]);
        using var c = a.matmul(b);
        Assert.Equal(new float[] { 19, 22, 43, 50 }, c.data<float>().ToArray());
    }

    [Fact]
    public void Scaled_dot_product_attention_kernel_matches_softmax_of_scaled_scores()
    {
        TorchRuntime.Seed(1);
        using var scope = torch.NewDisposeScope();
        var q = torch.randn([2, 3, 5, 8]); // [batch, heads, time, dim]
        var k = torch.randn([2, 3, 7, 8]);
        var v = torch.randn([2, 3, 7, 4]);
        var fused = nn.functional.scaled_dot_product_attention(q, k, v);
        var weights = (q.matmul(k.transpose(-2, -1)) / Math.Sqrt(8)).softmax(-1);
        var explicitOut = weights.matmul(v);
        Assert.Equal(new long[] { 2, 3, 5, 4 }, fused.shape);
        Assert.True(fused.allclose(explicitOut, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void Same_seed_gives_the_same_numbers()
    {
        TorchRuntime.Seed(42);
        using var first = torch.randn(16);
        TorchRuntime.Seed(42);
        using var second = torch.randn(16);
        Assert.Equal(first.data<float>().ToArray(), second.data<float>().ToArray());
    }

    [Fact]
    public void Cuda_device_without_a_cuda_build_names_the_problem()
    {
        if (torch.cuda.is_available()) return; // a CUDA machine has nothing to report here
        var e = Assert.Throws<ArgumentException>(() => TorchRuntime.Device("cuda"));
        Assert.Contains("TorchSharp-cpu", e.Message);
        Assert.Throws<ArgumentException>(() => TorchRuntime.Device("tpu"));
        Assert.Equal(DeviceType.CPU, TorchRuntime.Device("cpu").type);
    }

    [Fact]
    public void The_native_fix_status_is_reported()
    {
        var status = TorchRuntime.NativeFixStatus();
        Assert.DoesNotContain("NOT patched", status);
    }
}
