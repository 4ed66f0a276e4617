using TransformerLab.Experiments;
using TransformerLab.Runtime;
using Xunit;

namespace TransformerLab.Tests.Foundation;

/// <summary>The one CSV layer: typed rows round-trip exactly, old layouts are upgraded, and a missing column is named.</summary>
public sealed class CsvTests : IDisposable
{
    readonly string folder = Directory.CreateTempSubdirectory("tlab-csv-").FullName;
    public void Dispose() => Directory.Delete(folder, recursive: true);

    public enum Kind { TeacherForcing, ScheduledSampling }
    public sealed record Row(string Name, Kind Kind, bool Flag, int Count, double Value);

    [Fact]
    public void Typed_rows_round_trip_with_categories_as_names_and_quoting()
    {
        var path = Path.Combine(folder, "rows.csv");
        Row[] rows = [new("a, \"quoted\" name", Kind.ScheduledSampling, true, 3, 0.1 + 0.2), new("plain", Kind.TeacherForcing, false, -1, double.NaN)];
        Csv.WriteRows(path, rows);
        Assert.StartsWith("name,kind,flag,count,value\n\"a, \"\"quoted\"\" name\",scheduled_sampling,true,3,0.30000000000000004\n", File.ReadAllText(path));
        var back = Csv.ReadRows<Row>(path);
        Assert.Equal(rows[0], back[0]);
        Assert.True(double.IsNaN(back[1].Value));
        Assert.Equal(rows[1] with { Value = 0 }, back[1] with { Value = 0 });
    }

    [Fact]
    public void A_missing_column_is_named_with_what_to_do()
    {
        var path = Path.Combine(folder, "old.csv");
        File.WriteAllText(path, "name,kind\nx,teacher_forcing\n");
        var e = Assert.Throws<InvalidDataException>(() => Csv.ReadRows<Row>(path));
        Assert.Contains("no column 'flag'", e.Message);
        Assert.Contains("--rekey", e.Message);
    }

    [Fact]
    public void An_at_vs_nat_run_stored_with_decoder_indexes_is_upgraded_to_names_without_changing_a_number()
    {
        File.WriteAllText(Path.Combine(folder, "quality.csv"),
            "decoder,sequence_error,symbol_error,length_accuracy,repetition,mean_length,test_seconds\n0,0.4,0.1,0.9,0.001,6.2,1.5\n7,,,,0.0003,6.3,\n");
        File.WriteAllText(Path.Combine(folder, "refinement.csv"),
            "distilled,length_beam,iterations,sequence_error,symbol_error,repetition,test_seconds\n1,3,8,0.57,0.16,0.02,2.5\n");
        var experiment = ExperimentRegistry.Get("at-vs-nat");
        Assert.True(experiment.Upgrade(folder));
        Assert.False(experiment.Upgrade(folder)); // once
        var quality = Csv.ReadRows<AtVsNatExperiment.QualityRow>(Path.Combine(folder, "quality.csv"));
        Assert.Equal(["at greedy", "references"], quality.Select(q => q.Decoder));
        Assert.Equal(0.4, quality[0].SequenceError);
        Assert.True(double.IsNaN(quality[1].SequenceError));
        Assert.Equal(new AtVsNatExperiment.RefinementRow(true, 3, 8, 0.57, 0.16, 0.02, 2.5),
            Csv.ReadRows<AtVsNatExperiment.RefinementRow>(Path.Combine(folder, "refinement.csv")).Single());
    }
}
