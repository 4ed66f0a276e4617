using System.Globalization;
using MathNet.Numerics.Distributions;

namespace TransformerLab.Experiments;

/// <summary>Which way an interval points: above 0, below 0, or neither (it contains 0, or there are too few seeds to tell).</summary>
public enum Direction { None, Higher, Lower }

/// <summary>
/// A mean over seeds with its 95 % confidence interval (Student's t with n − 1 degrees of freedom): a group's value, or —
/// from <see cref="Paired"/> — the mean of seed-by-seed differences (treatment − baseline), with how many seeds went each
/// way. What a report may say about a direction is computed here (<see cref="Direction"/>, <see cref="Verdict"/>), never
/// written by hand: "lower" or "higher" only when the interval excludes 0.
/// </summary>
public sealed record Estimate(IReadOnlyList<double> Values)
{
    public int N => Values.Count;
    public double Mean => N == 0 ? double.NaN : Values.Average();
    public double StandardDeviation => Analysis.MeanAndSd(Values).StandardDeviation;

    /// <summary>Half the width of the 95 % interval: t(0.975, n − 1) · sd / √n; NaN below two seeds, where no interval exists.</summary>
    public double HalfWidth => N < 2 ? double.NaN : StudentT.InvCDF(0, 1, N - 1, 0.975) * StandardDeviation / Math.Sqrt(N);
    public double Low => Mean - HalfWidth;
    public double High => Mean + HalfWidth;

    /// <summary>Seeds whose value (difference) is above, below and at 0.</summary>
    public int Above => Values.Count(v => v > 0);
    public int Below => Values.Count(v => v < 0);

    /// <summary>
    /// Every seed gave the same value (n ≥ 2). The t interval then has zero width and would call any nonzero difference a
    /// direction — and with readings as coarse as these (steps to a target in units of the evaluation interval, an error
    /// rate in steps of 1/500) equal values are a measurement's resolution, not certainty. Such an estimate has no interval.
    /// </summary>
    public bool NoSpread => N >= 2 && Values.All(v => v == Values[0]);

    /// <summary>
    /// With <see cref="NoSpread"/>, the exact two-sided sign test of n differences all on one side: 2 · 0.5ⁿ (0.0625 at n 5,
    /// 0.031 at n 6); 1 when they are all 0.
    /// </summary>
    public double SignTestP => Values.All(v => v == 0) ? 1 : Math.Min(1, 2 * Math.Pow(0.5, N));

    /// <summary>
    /// Higher or lower only when the whole 95 % interval is on one side of 0; for values without spread (no interval), only
    /// when the sign test, which needs no spread, puts p below 0.05.
    /// </summary>
    public Direction Direction => N < 2 || double.IsNaN(HalfWidth) ? Direction.None
        : NoSpread ? (SignTestP >= 0.05 ? Direction.None : Mean > 0 ? Direction.Higher : Direction.Lower)
        : Low > 0 ? Direction.Higher : High < 0 ? Direction.Lower : Direction.None;

    /// <summary>Seed-by-seed differences of <paramref name="value"/>, treatment − baseline, over the seeds finished in both (<see cref="Analysis.Paired"/>).</summary>
    public static Estimate Paired(IEnumerable<RunRecord> baseline, IEnumerable<RunRecord> treatment, Func<RunRecord, double> value) =>
        new(Analysis.Paired(baseline, treatment, value));

    /// <summary>The values of the runs that finished (done), in seed order, NaN readings left out.</summary>
    public static Estimate Of(IEnumerable<RunRecord> runs, Func<RunRecord, double> value) =>
        new(runs.Where(r => r.State == RunState.Done).OrderBy(r => r.Seed).Select(value).Where(v => !double.IsNaN(v)).ToList());

    /// <summary>
    /// "29.91 % (95 % CI 29.51 to 30.31, n 3)": the mean and interval, each × <paramref name="scale"/>. A quantity that
    /// cannot leave a range (an error or an accuracy: 0 to 1) gives it as <paramref name="range"/>, and the interval is cut
    /// to it — the t interval of a few seeds near 0 % error would otherwise reach below 0; the cut one still covers the mean.
    /// </summary>
    public string Format(int decimals, double scale = 1, string unit = "", (double Low, double High)? range = null)
    {
        if (N == 0) return "–";
        if (N == 1) return $"{F(Mean * scale, decimals)}{unit} (n 1, no interval)";
        if (NoSpread) return $"{F(Mean * scale, decimals)}{unit} (the same in each of n {N}: no spread, no interval)";
        var (low, high) = Within(range);
        return $"{F(Mean * scale, decimals)}{unit} (95 % CI {F(low * scale, decimals)} to {F(high * scale, decimals)}, n {N})";
    }

    /// <summary>The 95 % interval cut to <paramref name="range"/> (none: as it is); it still covers the mean.</summary>
    public (double Low, double High) Within((double Low, double High)? range) =>
        (Math.Max(Low, range?.Low ?? double.NegativeInfinity), Math.Min(High, range?.High ?? double.PositiveInfinity));

    /// <summary>The range of a rate — an error or an accuracy — for <see cref="Format"/>.</summary>
    public static readonly (double Low, double High) Rate = (0, 1);

    /// <summary>
    /// The words a comparison may use, from the interval: "lower by 3.27 points (95 % CI 1.92 to 4.62, n 3; 3 of 3 seeds)"
    /// or "no measurable difference (95 % CI −0.40 to 1.20, n 3)"; one seed gives its difference and no verdict ("+0.44
    /// points in the one seed finished on both sides (n 1, no interval: no verdict)"); the same difference in every seed
    /// (<see cref="NoSpread"/>) has no interval, and the sign test decides ("+500 steps in each of the 5 seeds (no spread,
    /// so no t interval; two-sided sign test p = 0.0625: no verdict)"). <paramref name="higher"/>/<paramref name="lower"/>
    /// name the direction in the metric's terms (for an error, "higher" is worse).
    /// </summary>
    /// <remarks>
    /// A difference that cannot leave a range (of two rates: −1 to 1, <see cref="RateDifference"/>) gives it as
    /// <paramref name="range"/>, and the interval is printed cut to it; the direction is decided on the whole interval.
    /// </remarks>
    public string Verdict(int decimals, double scale = 1, string unit = " points", string higher = "higher", string lower = "lower", (double Low, double High)? range = null)
    {
        if (N == 0) return "not measured (no seed finished on both sides)";
        // one difference has no interval: it is shown, and no word about it — "no measurable difference" would read as a finding
        if (N == 1) return $"{Signed(Mean * scale, decimals)}{unit} in the one seed finished on both sides (n 1, no interval: no verdict)";
        if (NoSpread)
        {
            // no interval to read a direction from: the sign test decides, and the text says which test spoke
            var test = $"no spread, so no t interval; two-sided sign test p = {SignTestP.ToString("G3", CultureInfo.InvariantCulture)}";
            return Direction switch
            {
                Direction.Higher => $"{higher} by {F(Mean * scale, decimals)}{unit} in each of the {N} seeds ({test})",
                Direction.Lower => $"{lower} by {F(-Mean * scale, decimals)}{unit} in each of the {N} seeds ({test})",
                _ when Mean == 0 => $"no measurable difference (0 in each of the {N} seeds: no spread, no interval)",
                _ => $"{Signed(Mean * scale, decimals)}{unit} in each of the {N} seeds ({test}: no verdict)",
            };
        }
        var (low, high) = Within(range);
        string Interval(double from, double to) => $"95 % CI {F(from * scale, decimals)} to {F(to * scale, decimals)}, n {N}";
        return Direction switch
        {
            Direction.Higher => $"{higher} by {F(Mean * scale, decimals)}{unit} ({Interval(low, high)}; {Above} of {N} seeds)",
            Direction.Lower => $"{lower} by {F(-Mean * scale, decimals)}{unit} ({Interval(-high, -low)}; {Below} of {N} seeds)", // the size of the drop, as a positive interval
            _ => $"no measurable difference ({Interval(low, high)})",
        };
    }

    /// <summary>The range of a difference of two rates (errors, accuracies) for <see cref="Verdict"/>: −1 to 1.</summary>
    public static readonly (double Low, double High) RateDifference = (-1, 1);

    /// <summary>Fixed decimals, thousands grouped ("4,500 steps" like the tables' cells), a true minus sign.</summary>
    static string F(double value, int decimals) => value.ToString("N" + decimals, CultureInfo.InvariantCulture).Replace("-", "−");

    /// <summary><see cref="F"/> with "+" before a positive value; a value that rounds to zero gets no sign ("0.00", not "+0.00" or "−0.00").</summary>
    static string Signed(double value, int decimals)
    {
        var text = F(value, decimals);
        return text.TrimStart('−').All(c => c is '0' or '.' or ',') ? text.TrimStart('−') : value > 0 ? "+" + text : text;
    }
}
