using Microsoft.Data.Analysis;
using TransformerLab.Notebooks;
using Xunit;

namespace TransformerLab.Tests.Notebooks;

public sealed class DataFrameHtmlTests
{
    [Theory]
    [InlineData(8.9407e-7, "8.94 × 10⁻⁷")]
    [InlineData(-6.25668e-8, "-6.26 × 10⁻⁸")]
    [InlineData(9.996e-7, "1 × 10⁻⁶")]        // the mantissa rounds up to 10: one more power, not "10 × 10⁻⁷"
    [InlineData(2.0e-12, "2 × 10⁻¹²")]
    [InlineData(0.0, "0")]
    [InlineData(0.000123456, "0.000123456")]   // from 10⁻⁴ up: six significant digits written out, as before
    [InlineData(0.731279, "0.731279")]
    [InlineData(86.6, "86.6")]
    public void A_cell_writes_tiny_magnitudes_as_powers_of_ten_and_the_rest_in_six_digits(double value, string expected) =>
        Assert.Equal(expected, NotebookDisplay.Number(value));

    [Theory]
    [InlineData(1.7356e-18, 3, "1.74 × 10⁻¹⁸")]
    [InlineData(0.145873, 3, "0.146")]
    [InlineData(3.4e-9, 1, "3 × 10⁻⁹")]
    public void A_cell_may_ask_for_fewer_digits(double value, int digits, string expected) =>
        Assert.Equal(expected, NotebookDisplay.Number(value, digits));

    [Fact]
    public void A_frame_shows_its_float_columns_through_the_same_rule()
    {
        var frame = new DataFrame(new StringDataFrameColumn("Encoding", new[] { "None" }),
                                  new DoubleDataFrameColumn("Error", new[] { 8.9407e-7 }),
                                  new SingleDataFrameColumn("Single", new[] { 0.5f }));
        var html = System.Net.WebUtility.HtmlDecode(NotebookDisplay.DataFrameHtml(frame));   // "×" and "⁻" travel as entities
        Assert.Contains("<td>None</td><td>8.94 × 10⁻⁷</td><td>0.5</td>", html);
    }
}
