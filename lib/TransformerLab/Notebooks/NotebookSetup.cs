using TransformerLab.Runtime;

namespace TransformerLab.Notebooks;

/// <summary>The first cell of every notebook calls <see cref="Init"/>: formatters, LibTorch, and the mode in use.</summary>
public static class NotebookSetup
{
    /// <summary>
    /// The library as every notebook's first line references it, relative to <c>notebooks/</c>: the Debug build folder,
    /// which both of the README's commands (and <c>dotnet build Research.sln</c>) write, natives laid out flat beside it.
    /// </summary>
    public const string LibraryReference = "../lib/TransformerLab/bin/Debug/net10.0/TransformerLab.dll";

    /// <summary>
    /// The library build a notebook runner built as <paramref name="configuration"/> (Debug or Release) runs the notebooks
    /// against, relative to <c>notebooks/</c>: the same folder layout as <see cref="LibraryReference"/>, in that
    /// configuration's folder. So <c>dotnet run -c Release --project lib/Research -- notebooks</c> needs no Debug build.
    /// </summary>
    public static string LibraryReferenceFor(string configuration) => LibraryReference.Replace("/bin/Debug/", $"/bin/{configuration}/");

    /// <summary>Registers the display formatters, loads LibTorch, and returns a one-line summary to show.</summary>
    public static string Init()
    {
        NotebookDisplay.Register();
        TorchRuntime.EnsureLoaded();
        return $"Transformer Lab: TorchSharp {TorchRuntime.TorchSharpVersion}, LibTorch {TorchSharp.torch.__version__}, " +
               $"{TorchSharp.torch.get_num_threads()} threads, notebook size {NotebookMode.Size}";
    }
}
