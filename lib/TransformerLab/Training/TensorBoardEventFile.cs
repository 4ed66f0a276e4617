using System.Buffers.Binary;
using System.IO.Hashing;
using Google.Protobuf;

namespace TransformerLab.Training;

/// <summary>
/// A TensorBoard event file (<c>events.out.tfevents.&lt;unix seconds&gt;.&lt;host&gt;</c>): TFRecord framing — little-endian
/// uint64 length, masked CRC-32C of the length, the serialized <c>Event</c> protobuf, masked CRC-32C of the data — and a first
/// event that carries <c>file_version = "brain.Event:2"</c>. Events are TorchSharp's generated <c>Tensorboard.Event</c>.
/// Written here rather than with TorchSharp's <c>SummaryWriter</c>, whose first event and file name carry .NET ticks
/// (6.4e17) where TensorBoard expects Unix seconds, and whose scalars get whole-second wall times.
/// </summary>
public sealed class TensorBoardEventFile : IDisposable
{
    readonly FileStream stream;

    public string Path { get; }

    /// <summary>Creates a new event file in <paramref name="folder"/> (never appends: a resumed run gets a second file, as in PyTorch).</summary>
    public TensorBoardEventFile(string folder)
    {
        Directory.CreateDirectory(folder);
        var now = DateTimeOffset.UtcNow;
        // Unique per process and start, like PyTorch's writer: two writers in one second get different names.
        Path = System.IO.Path.Combine(folder, $"events.out.tfevents.{now.ToUnixTimeSeconds()}.{Environment.MachineName}.{Environment.ProcessId}.{Interlocked.Increment(ref opened)}");
        stream = new FileStream(Path, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
        Write(new Tensorboard.Event { WallTime = UnixSeconds(now), FileVersion = "brain.Event:2" });
    }

    static int opened;

    /// <summary>One scalar at a training step; the wall time is now, in Unix seconds with sub-second precision.</summary>
    public void Scalar(string tag, double value, long step)
    {
        var summary = new Tensorboard.Summary();
        summary.Value.Add(new Tensorboard.Summary.Types.Value { Tag = tag, SimpleValue = (float)value });
        Write(new Tensorboard.Event { WallTime = UnixSeconds(DateTimeOffset.UtcNow), Step = step, Summary = summary });
    }

    static double UnixSeconds(DateTimeOffset t) => (t - DateTimeOffset.UnixEpoch).TotalSeconds;

    void Write(Tensorboard.Event e)
    {
        var data = e.ToByteArray();
        Span<byte> length = stackalloc byte[8], crc = stackalloc byte[4];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)data.Length);
        stream.Write(length);
        BinaryPrimitives.WriteUInt32LittleEndian(crc, MaskedCrc32C(length));
        stream.Write(crc);
        stream.Write(data);
        BinaryPrimitives.WriteUInt32LittleEndian(crc, MaskedCrc32C(data));
        stream.Write(crc);
        stream.Flush(); // each event is on disk as it comes: TensorBoard can follow a run live, a crash loses nothing written
    }

    /// <summary>TFRecord's checksum: CRC-32C, rotated right by 15 bits, plus a constant (so CRCs of CRCs do not look valid).</summary>
    public static uint MaskedCrc32C(ReadOnlySpan<byte> data)
    {
        var crc = Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, data);
        return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
    }

    public void Dispose() => stream.Dispose();
}
