using TransformerLab.Runtime;

namespace TransformerLab.Notebooks;

/// <summary>The first cell of every notebook calls <see cref="Init"/>: formatters, LibTorch, and the mode in use.</summary>
public static class NotebookSetup
{
    /// <summary>Registers the display formatters, loads LibTorch, and returns a one-line summary to show.</summary>
    public static string Init()
    {
        NotebookDisplay.Register();
        TorchRuntime.EnsureLoaded();
        return $"Transformer Lab: TorchSharp {TorchRuntime.TorchSharpVersion}, LibTorch {TorchSharp.torch.__version__}, " +
               $"{TorchSharp.torch.get_num_threads()} threads, notebook size {NotebookMode.Size}";
    }
}
