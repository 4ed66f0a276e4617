using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TorchSharp;
using TransformerLab.Data;
using TransformerLab.Model;
using TransformerLab.Runtime;
using static TorchSharp.torch;

namespace TransformerLab.Training;

/// <summary>Where a run is: everything besides tensors that resuming needs.</summary>
public sealed record TrainingProgress
{
    public long Step { get; init; }
    public int Epoch { get; init; }
    /// <summary>Batches of <see cref="Epoch"/> already used.</summary>
    public int BatchInEpoch { get; init; }
    public double BestDevError { get; init; } = double.PositiveInfinity;
    public long BestStep { get; init; }
    public int EvaluationsWithoutImprovement { get; init; }
    /// <summary>Exponential moving average of the loss (before bias correction) and the lowest corrected value: the divergence check.</summary>
    public double LossAverage { get; init; }
    public double LowestSmoothedLoss { get; init; } = double.PositiveInfinity;
    public long TokensSeen { get; init; }
    public double TrainingSeconds { get; init; }
    /// <summary>The best dev evaluation so far, exactly as measured (a resumed run reports it, not a rounded dev.csv row); null in checkpoints written before it was kept.</summary>
    public DevReport? Best { get; init; }
    /// <summary>The steps since the last logged row — their summed loss, count, target tokens and seconds — so the first row after a resume averages the same steps as an uninterrupted run's.</summary>
    public double IntervalLoss { get; init; }
    public int IntervalSteps { get; init; }
    public long IntervalTokens { get; init; }
    public double IntervalSeconds { get; init; }
}

/// <summary>
/// A checkpoint: settings, vocabularies, progress, model parameters, optimiser state and the torch RNG state,
/// in one file with a SHA-256 trailer, written atomically (a crash mid-write leaves the previous file intact).
/// Layout: "TLABCKPT" · int32 version · header JSON · model · optimiser · RNG · SHA-256 of all before.
/// Format 2 names parameters by module (<c>encoder.layers.0…</c>, <c>decoder.…</c>, <c>output.…</c>); format 1, from before
/// the Encoder/Decoder modules, named them flat (<c>encoder_layers.0…</c>, <c>source_embedding…</c>): its parameters are
/// renamed on load; its optimiser state is in the same (seed) order, so it also resumes.
/// </summary>
public sealed class Checkpoint
{
    const string Magic = "TLABCKPT";
    const int Version = 2;

    public required TrainingSettings Settings { get; init; }
    public required Vocabulary SourceVocabulary { get; init; }
    public required Vocabulary TargetVocabulary { get; init; }
    public required TrainingProgress Progress { get; init; }
    public required byte[] ModelState { get; init; }
    public required byte[] OptimizerState { get; init; }
    public required byte[] RngState { get; init; }
    /// <summary>The file format it was read from (<see cref="Version"/> for a new one).</summary>
    public int Format { get; init; } = Version;

    sealed record Header(string Settings, IReadOnlyList<string> SourceVocabulary, IReadOnlyList<string> TargetVocabulary, TrainingProgress Progress);

    static readonly JsonSerializerOptions Json = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static Checkpoint Capture(TrainingSettings settings, TaskData data, TrainingProgress progress, nn.Module model, optim.Optimizer optimizer)
    {
        using var rng = torch.get_rng_state();
        return new()
        {
            Settings = settings,
            SourceVocabulary = data.SourceVocabulary,
            TargetVocabulary = data.TargetVocabulary,
            Progress = progress,
            ModelState = Bytes(w => model.save(w)),
            OptimizerState = Bytes(w => ((TorchSharp.Modules.OptimizerHelper)optimizer).save_state_dict(w)),
            RngState = rng.data<byte>().ToArray(),
        };
    }

    public void Save(string path)
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Encoding.ASCII.GetBytes(Magic));
            w.Write(Version);
            w.Write(JsonSerializer.Serialize(new Header(Training.Settings.ToJson(Settings), SourceVocabulary.Symbols, TargetVocabulary.Symbols, Progress), Json));
            foreach (var block in new[] { ModelState, OptimizerState, RngState }) { w.Write(block.LongLength); w.Write(block); }
        }
        var body = stream.ToArray();
        AtomicFile.WriteAllBytes(path, [.. body, .. SHA256.HashData(body)]);
    }

    /// <exception cref="CheckpointException">the file is missing, truncated, corrupt or not a checkpoint.</exception>
    public static Checkpoint Load(string path)
    {
        if (!File.Exists(path)) throw new CheckpointException($"Checkpoint not found: {path}.");
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < Magic.Length + 32 || Encoding.ASCII.GetString(bytes, 0, Magic.Length) != Magic)
            throw new CheckpointException($"{path} is not a Transformer Lab checkpoint (no {Magic} header).");
        var body = bytes.AsSpan(0, bytes.Length - 32);
        if (!SHA256.HashData(body).AsSpan().SequenceEqual(bytes.AsSpan(bytes.Length - 32)))
            throw new CheckpointException($"{path} is corrupt: its SHA-256 does not match (truncated or modified). Use another checkpoint (best.ckpt or last.ckpt) or retrain.");
        try
        {
            using var r = new BinaryReader(new MemoryStream(body.ToArray()), Encoding.UTF8);
            r.ReadBytes(Magic.Length);
            var version = r.ReadInt32();
            if (version is < 1 or > Version) throw new CheckpointException($"{path} has checkpoint format {version}; this build reads formats 1 to {Version}. Use a newer build of the workspace.");
            var header = JsonSerializer.Deserialize<Header>(r.ReadString(), Json)!;
            byte[] Block()
            {
                // A valid hash only says the file is as written; the lengths inside must still fit the file.
                var length = r.ReadInt64();
                var left = r.BaseStream.Length - r.BaseStream.Position;
                if (length < 0 || length > left)
                    throw new CheckpointException($"{path} is corrupt: a block claims {length:N0} bytes where {left:N0} remain. Use another checkpoint (best.ckpt or last.ckpt) or retrain.");
                return r.ReadBytes((int)length);
            }
            return new Checkpoint
            {
                Settings = Training.Settings.FromJson(header.Settings, new TrainingSettings()),
                SourceVocabulary = new Vocabulary(header.SourceVocabulary),
                TargetVocabulary = new Vocabulary(header.TargetVocabulary),
                Progress = header.Progress,
                ModelState = Block(),
                OptimizerState = Block(),
                RngState = Block(),
                Format = version,
            };
        }
        catch (Exception e) when (e is JsonException or EndOfStreamException or SettingsException or ArgumentException)
        {
            throw new CheckpointException($"{path} cannot be read as a checkpoint: {e.Message}");
        }
    }

    /// <summary>Whether <paramref name="data"/> has the vocabularies this checkpoint was trained with (token ids mean the same symbols).</summary>
    public bool HasVocabulariesOf(Data.TaskData data) =>
        SourceVocabulary.Symbols.SequenceEqual(data.SourceVocabulary.Symbols) && TargetVocabulary.Symbols.SequenceEqual(data.TargetVocabulary.Symbols);

    /// <summary>The model this checkpoint holds — its spec, vocabularies and weights — which restores without any of the training state.</summary>
    public ModelCheckpoint Model => model ??= new(Settings.ModelSpec(), SourceVocabulary, TargetVocabulary, ModelState, Format);

    ModelCheckpoint? model;

    /// <summary>The Transformer encoder–decoder with this checkpoint's configuration and parameters, on <paramref name="device"/>.</summary>
    /// <exception cref="CheckpointException">the checkpoint holds another kind of model.</exception>
    public EncoderDecoder RestoreModel(Device device) => Model.Spec is ModelSpec.Transformer
        ? (EncoderDecoder)Model.Restore(device)
        : throw new CheckpointException($"This checkpoint holds {Model.Spec.Description}, not the Transformer encoder–decoder; restore it with RestoreSequenceToSequence or RestoreNonAutoregressive (research eval handles every kind).");

    /// <summary>The autoregressive encoder–decoder (Transformer, recurrent or convolutional), on <paramref name="device"/>.</summary>
    /// <exception cref="CheckpointException">the checkpoint holds a NAT.</exception>
    public SequenceToSequence RestoreSequenceToSequence(Device device) => Model.RestoreSequenceToSequence(device);

    /// <summary>The NAT with this checkpoint's configuration and parameters, on <paramref name="device"/>.</summary>
    /// <exception cref="CheckpointException">the checkpoint holds an autoregressive model.</exception>
    public NonAutoregressiveTransformer RestoreNonAutoregressive(Device device) => Model.RestoreNonAutoregressive(device);

    /// <summary>The optimiser's state (both formats give it in the parameters' seed order, <see cref="TransformerLab.Model.Initialisation.SeedOrder"/>).</summary>
    public void LoadOptimizerState(optim.Optimizer optimizer) =>
        ((TorchSharp.Modules.OptimizerHelper)optimizer).load_state_dict(new BinaryReader(new MemoryStream(OptimizerState)));

    public void RestoreRng() => torch.set_rng_state(torch.tensor(RngState, dtype: ScalarType.Byte));

    static byte[] Bytes(Action<BinaryWriter> write)
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true)) write(w);
        return stream.ToArray();
    }
}
