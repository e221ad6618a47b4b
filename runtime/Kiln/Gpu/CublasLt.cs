using System;
using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using Kiln.Kernels.Gemm;

namespace Kiln.Gpu;

/// <summary>
/// NVIDIA's cuBLASLt through P/Invoke, used for matrix products on a CUDA device where the library loads (it ships with
/// the CUDA toolkit and with PyTorch's wheels, not with the driver): float32, float16 and bfloat16 operands with float32
/// accumulation, strided batches, and the bias + ReLU/GELU epilogues compiled models use. Elsewhere — no library, an
/// operand layout it cannot take (neither dim unit-stride), the emulator — Kiln's own tiled kernel runs. Set
/// <c>KILN_CUBLASLT=0</c> to force Kiln's kernel (the GPU check compares both).
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public static unsafe class CublasLt
{
    const string Lib = "cublasLt";
    static readonly Lazy<IntPtr> Handle = new(Create);

    /// <summary>Whether cuBLASLt was found and initialised (false on a machine without it, and under the emulator).</summary>
    public static bool IsAvailable => !_failed && Environment.GetEnvironmentVariable("KILN_CUBLASLT") != "0" && !Cuda.Emulate && Cuda.IsAvailable && Handle.Value != IntPtr.Zero;

    static bool _failed;

    /// <summary>Turns the library off for this process after a failed call (Kiln's kernels take over), with one warning.</summary>
    static bool Disable(string why)
    {
        if (!_failed) Console.Error.WriteLine($"kiln: warning: cuBLASLt disabled for this process, Kiln's GEMM kernels run instead: {why}");
        _failed = true;
        return false;
    }

    static IntPtr Create()
    {
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(CublasLt).Assembly, Resolve);
        }
        catch (InvalidOperationException) { }
        try
        {
            return cublasLtCreate(out var h) == 0 ? h : IntPtr.Zero;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return IntPtr.Zero;
        }
    }

    static IntPtr Resolve(string name, System.Reflection.Assembly assembly, DllImportSearchPath? path)
    {
        if (name == "cuda") return NativeLibrary.TryLoad("libcuda.so.1", out var d) ? d : IntPtr.Zero;
        if (name != Lib) return IntPtr.Zero;
        foreach (var candidate in new[] { "libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so.11", "libcublasLt.so", "cublasLt64_12", "cublasLt64_11" })
            if (NativeLibrary.TryLoad(candidate, assembly, path, out var h)) return h;
        return IntPtr.Zero;
    }

    /// <summary>The device address of a CUDA tensor's first element.</summary>
    static IntPtr Address(Tensor t)
    {
        var view = t.View<byte>();
        return ((IArrayView)view).Buffer.NativePtr + (nint)((IContiguousArrayView)view).IndexInBytes;
    }

    static int DataType(DType t) => t switch
    {
        DType.Float32 => CudaR32F,
        DType.Float16 => CudaR16F,
        DType.BFloat16 => CudaR16BF,
        _ => -1,
    };

    /// <summary>
    /// C[i] = A[i]·B[i] (+ bias, activation) over a batch for row-major C [batch, m, n] of <paramref name="c"/>'s dtype; A, B given by
    /// element strides (one of each pair must be 1). False when cuBLASLt cannot take the call (the caller runs Kiln's kernel).
    /// </summary>
    public static bool TryGemm(Tensor a, long rowA, long colA, long batchA, Tensor b, long rowB, long colB, long batchB, Tensor c,
        int batch, int m, int n, int k, float alpha, float beta, Tensor? bias = null, GemmActivation activation = GemmActivation.None)
    {
        if (!IsAvailable || a.DType != b.DType || a.DType != c.DType || DataType(a.DType) < 0 || !c.IsContiguous) return false;
        if ((colA != 1 && rowA != 1) || (colB != 1 && rowB != 1)) return false;
        var dev = c.Storage.Gpu!;
        // Row-major C = A·B is column-major Cᵀ = Bᵀ·Aᵀ: D (n × m, ld n) = op(B) (n × k) · op(A) (k × m).
        int type = DataType(c.DType);
        bool transB = colB != 1, transA = colA != 1;   // a row-major operand is its column-major transpose as stored
        long ldb = transB ? colB : rowB, lda = transA ? colA : rowA;
        IntPtr desc = 0, la = 0, lb = 0, lc = 0, pref = 0;
        try
        {
            Check(cublasLtMatmulDescCreate(out desc, ComputeType32F, CudaR32F));
            int opB = transB ? 1 : 0, opA = transA ? 1 : 0;
            Check(cublasLtMatmulDescSetAttribute(desc, DescTransA, &opB, sizeof(int)));
            Check(cublasLtMatmulDescSetAttribute(desc, DescTransB, &opA, sizeof(int)));
            uint epilogue = (bias is not null, activation) switch
            {
                (false, GemmActivation.None) => EpilogueDefault,
                (false, GemmActivation.Relu) => EpilogueRelu,
                (true, GemmActivation.None) => EpilogueBias,
                (true, GemmActivation.Relu) => EpilogueReluBias,
                (false, GemmActivation.Gelu) or (false, GemmActivation.GeluTanh) => EpilogueGelu,
                _ => EpilogueGeluBias,
            };
            // cuBLASLt's GELU is the tanh form; the exact form runs in Kiln's epilogue instead.
            if (activation == GemmActivation.Gelu) return false;
            Check(cublasLtMatmulDescSetAttribute(desc, DescEpilogue, &epilogue, sizeof(uint)));
            if (bias is not null)
            {
                if (bias.DType != c.DType || !bias.IsContiguous || bias.Numel != n) return false;
                IntPtr bp = Address(bias);
                Check(cublasLtMatmulDescSetAttribute(desc, DescBiasPointer, &bp, (nuint)IntPtr.Size));
            }
            lb = Layout(type, transB ? k : n, transB ? n : k, ldb, batch, batchB);
            la = Layout(type, transA ? m : k, transA ? k : m, lda, batch, batchA);
            lc = Layout(type, n, m, n, batch, (long)m * n);
            Check(cublasLtMatmulPreferenceCreate(out pref));
            ulong workspace = WorkspaceBytes;
            Check(cublasLtMatmulPreferenceSetAttribute(pref, PrefMaxWorkspaceBytes, &workspace, sizeof(ulong)));
            var heuristic = stackalloc byte[HeuristicSize];
            int found = 0;
            if (cublasLtMatmulAlgoGetHeuristic(Handle.Value, desc, lb, la, lc, lc, pref, 1, heuristic, &found) != 0 || found == 0) return false;
            using var space = Tensor.Empty([(int)WorkspaceBytes], DType.UInt8, dev.Device);
            var stream = ((CudaStream)dev.Stream).StreamPtr;
            Check(cublasLtMatmul(Handle.Value, desc, &alpha, Address(b), lb, Address(a), la, &beta, Address(c), lc, Address(c), lc,
                heuristic, Address(space), (nuint)WorkspaceBytes, stream));
            return true;
        }
        catch (KilnException e)
        {
            return Disable(e.Message);
        }
        finally
        {
            if (pref != 0) cublasLtMatmulPreferenceDestroy(pref);
            if (lc != 0) cublasLtMatrixLayoutDestroy(lc);
            if (la != 0) cublasLtMatrixLayoutDestroy(la);
            if (lb != 0) cublasLtMatrixLayoutDestroy(lb);
            if (desc != 0) cublasLtMatmulDescDestroy(desc);
        }
    }

    static IntPtr Layout(int type, long rows, long cols, long ld, int batch, long batchStride)
    {
        Check(cublasLtMatrixLayoutCreate(out var l, type, (ulong)rows, (ulong)cols, ld));
        if (batch > 1)
        {
            Check(cublasLtMatrixLayoutSetAttribute(l, LayoutBatchCount, &batch, sizeof(int)));
            Check(cublasLtMatrixLayoutSetAttribute(l, LayoutStridedBatchOffset, &batchStride, sizeof(long)));
        }
        return l;
    }

    static void Check(int status)
    {
        if (status != 0) throw new KilnException("matmul", $"matmul: cuBLASLt failed with status {status}");
    }

    const ulong WorkspaceBytes = 32UL << 20;
    const int HeuristicSize = 96; // cublasLtMatmulHeuristicResult_t: algo (64 B), workspace size, state, waves, 4 reserved ints
    const int CudaR32F = 0, CudaR16F = 2, CudaR16BF = 14, ComputeType32F = 68;
    const int DescTransA = 3, DescTransB = 4, DescEpilogue = 7, DescBiasPointer = 8;
    const int LayoutBatchCount = 5, LayoutStridedBatchOffset = 6, PrefMaxWorkspaceBytes = 1;
    const uint EpilogueDefault = 1, EpilogueRelu = 2, EpilogueBias = 4, EpilogueReluBias = 6, EpilogueGelu = 32, EpilogueGeluBias = 36;

    [DllImport(Lib)] static extern int cublasLtCreate(out IntPtr handle);
    [DllImport(Lib)] static extern int cublasLtMatmulDescCreate(out IntPtr desc, int computeType, int scaleType);
    [DllImport(Lib)] static extern int cublasLtMatmulDescDestroy(IntPtr desc);
    [DllImport(Lib)] static extern int cublasLtMatmulDescSetAttribute(IntPtr desc, int attribute, void* value, nuint size);
    [DllImport(Lib)] static extern int cublasLtMatrixLayoutCreate(out IntPtr layout, int type, ulong rows, ulong cols, long ld);
    [DllImport(Lib)] static extern int cublasLtMatrixLayoutDestroy(IntPtr layout);
    [DllImport(Lib)] static extern int cublasLtMatrixLayoutSetAttribute(IntPtr layout, int attribute, void* value, nuint size);
    [DllImport(Lib)] static extern int cublasLtMatmulPreferenceCreate(out IntPtr pref);
    [DllImport(Lib)] static extern int cublasLtMatmulPreferenceDestroy(IntPtr pref);
    [DllImport(Lib)] static extern int cublasLtMatmulPreferenceSetAttribute(IntPtr pref, int attribute, void* value, nuint size);
    [DllImport(Lib)]
    static extern int cublasLtMatmulAlgoGetHeuristic(IntPtr handle, IntPtr desc, IntPtr a, IntPtr b, IntPtr c, IntPtr d, IntPtr pref,
        int requested, void* results, int* returned);
    [DllImport(Lib)]
    static extern int cublasLtMatmul(IntPtr handle, IntPtr desc, void* alpha, IntPtr a, IntPtr aDesc, IntPtr b, IntPtr bDesc, void* beta,
        IntPtr c, IntPtr cDesc, IntPtr d, IntPtr dDesc, void* algo, IntPtr workspace, nuint workspaceSize, IntPtr stream);
}
