using System;
using System.Collections.Generic;
using System.Linq;
using Kiln.Optim;
using Xunit;

namespace Kiln.Tests.NN;

/// <summary>
/// bfloat16 and float16 parameters (a model loaded in bf16, LoRA adapters over it): the fused optimizers widen the
/// parameter, gradient and state to float32, step, and round back once — the float32 optimizer's step (checked against
/// PyTorch elsewhere) on the same values, its parameter and state rounded after every step, bit for bit. The state stays
/// in the parameter's dtype, as PyTorch keeps it.
/// </summary>
public class HalfPrecisionOptimizerTests
{
    public static TheoryData<string, DType> Cases()
    {
        var d = new TheoryData<string, DType>();
        foreach (var dtype in new[] { DType.BFloat16, DType.Float16 })
            foreach (var name in new[] { "sgd_nesterov", "adam_amsgrad", "adamw", "rmsprop_centered", "adagrad" })
                d.Add(name, dtype);
        return d;
    }

    static Optimizer Make(string name, Tensor p) => name switch
    {
        "sgd_nesterov" => new SGD([p], lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01),
        "adam_amsgrad" => new Adam([p], lr: 0.01, amsgrad: true, weightDecay: 0.1),
        "adamw" => new AdamW([p], lr: 0.01, weightDecay: 0.1),
        "rmsprop_centered" => new RMSprop([p], lr: 0.01, centered: true, momentum: 0.5),
        _ => new Adagrad([p], lr: 0.1, lrDecay: 0.01, initialAccumulatorValue: 0.1),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void AHalfParameterStepsAsFloat32RoundedOnce(string name, DType dtype)
    {
        var g = new Generator(5);
        var start = Tensor.Randn([37], generator: g).To(dtype);
        var half = start.Clone().RequiresGrad_();
        var wide = start.To(DType.Float32).RequiresGrad_();
        var halfOpt = Make(name, half);
        var wideOpt = Make(name, wide);
        // The float32 run's parameter and state rounded to the 16-bit type, as the 16-bit run keeps them (Adagrad's
        // accumulator starts at its initial value in the parameter's dtype).
        OptimizerStateDict RoundWide()
        {
            using (Autograd.NoGrad()) wide.Copy_(wide.To(dtype).To(DType.Float32));
            var state = wideOpt.StateDict();
            foreach (var buffers in state.State.Values)
                foreach (var key in buffers.Keys.Where(k => k != "step").ToList()) buffers[key] = buffers[key].To(dtype).To(DType.Float32);
            wideOpt.LoadStateDict(state);
            return state;
        }
        RoundWide();
        for (int step = 0; step < 4; step++)
        {
            var grad = Tensor.Randn([37], generator: g).To(dtype);
            half.Grad = grad;
            wide.Grad = grad.To(DType.Float32);
            halfOpt.Step();
            wideOpt.Step();
            var state = RoundWide();

            Assert.Equal(dtype, half.DType);
            Assert.Equal(Bits(wide.To(dtype)), Bits(half));
            var halfState = halfOpt.StateDict().State[0];
            foreach (var (key, buffer) in state.State[0].Where(kv => kv.Key != "step"))
            {
                Assert.Equal(dtype, halfState[key].DType);
                Assert.Equal(Bits(buffer.To(dtype)), Bits(halfState[key]));
            }
        }
    }

    static ushort[] Bits(Tensor t) => t.DType == DType.BFloat16
        ? Array.ConvertAll(t.ToArray<BFloat16>(), v => v.Bits)
        : Array.ConvertAll(t.ToArray<Half>(), v => BitConverter.HalfToUInt16Bits(v));
}
