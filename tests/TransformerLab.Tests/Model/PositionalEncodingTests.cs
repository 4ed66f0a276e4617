using TorchSharp;
using TransformerLab.Model;
using TransformerLab.Runtime;
using Xunit;
using static TorchSharp.torch;
using static TransformerLab.Tests.Model.Reference;

namespace TransformerLab.Tests.Model;

public class PositionalEncodingTests
{
    public PositionalEncodingTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void The_table_follows_the_paper_formula()
    {
        using var table = SinusoidalPositionalEncoding.Table(50, 8);
        foreach (var pos in new[] { 0, 1, 7, 49 })
        for (int i = 0; i < 4; i++)
        {
            var angle = pos / Math.Pow(10000, 2.0 * i / 8);
            Assert.Equal(Math.Sin(angle), table[pos, 2 * i].ToDouble(), 5);
            Assert.Equal(Math.Cos(angle), table[pos, 2 * i + 1].ToDouble(), 5);
        }
    }

    [Fact]
    public void Any_length_is_available_with_no_fixed_cap()
    {
        using var scope = torch.NewDisposeScope();
        var pe = new SinusoidalPositionalEncoding(16);
        var x = torch.zeros(1, 3000, 16);
        var y = pe.forward(x, 0);
        AssertClose(SinusoidalPositionalEncoding.Table(3000, 16), y[0]);
        AssertClose(SinusoidalPositionalEncoding.Table(3010, 16)[3000..], pe.forward(torch.zeros(1, 10, 16), 3000)[0]);
    }

    [Fact]
    public void The_table_is_built_once_and_not_rebuilt_on_every_call()
    {
        // A regression: comparing Device objects by reference rebuilt — and doubled — the table on every forward,
        // so training ran out of 24 GiB within a minute.
        using var scope = torch.NewDisposeScope();
        var pe = new SinusoidalPositionalEncoding(16);
        for (int i = 0; i < 20; i++) pe.forward(torch.zeros(2, 5 + i % 3, 16), 0);
        Assert.Equal(128, pe.TablePositions);
        pe.forward(torch.zeros(1, 200, 16), 0);
        Assert.Equal(256, pe.TablePositions);
    }

    [Fact]
    public void Shifting_by_k_is_a_fixed_rotation()
    {
        // For each frequency ω: [sin ω(p+k), cos ω(p+k)] = R(ωk) [sin ωp, cos ωp], the same R for every p.
        const int d = 16, k = 5;
        using var scope = torch.NewDisposeScope();
        var table = SinusoidalPositionalEncoding.Table(200, d).to(ScalarType.Float64);
        var rotation = SinusoidalPositionalEncoding.Shift(k, d);
        Assert.Equal(Math.Cos(k / Math.Pow(10000, 2.0 * 3 / d)), rotation[6, 6].ToDouble(), 12); // frequency i = 3 by hand
        var shifted = table[..(200 - k)].matmul(rotation.T);
        AssertClose(table[k..], shifted, atol: 1e-5);
        AssertClose(torch.eye(d, dtype: ScalarType.Float64), rotation.matmul(rotation.T), atol: 1e-12); // a rotation
    }

    [Fact]
    public void Learned_encoding_refuses_positions_beyond_its_table_with_a_clear_message()
    {
        using var pe = new LearnedPositionalEncoding(8, maxLength: 10);
        using var x = torch.zeros(1, 4, 8);
        var e = Assert.Throws<ArgumentException>(() => pe.forward(x, 8));
        Assert.Contains("max_length", e.Message);
        Assert.Contains("sinusoidal", e.Message);
    }
}
