namespace Kiln.Backends;

// The scalars of one fused optimizer step, in double (a float64 parameter updates in double; float32 ones round them once):
// what an optimizer hands its parameter's backend.

/// <summary>One SGD step (<c>torch.optim.SGD</c>'s options).</summary>
internal readonly record struct SgdStep(double Lr, double WeightDecay, double Momentum, double Dampening, bool FirstStep, bool Nesterov, bool Maximize);

/// <summary>One Adam/AdamW step: the options plus this step's bias corrections.</summary>
internal readonly record struct AdamStep(double Lr, double Beta1, double Beta2, double Eps, double WeightDecay, bool Decoupled, bool Maximize,
    double StepSize, double Bc2Sqrt);

/// <summary>One RMSprop step.</summary>
internal readonly record struct RmsPropStep(double Lr, double Alpha, double Eps, double WeightDecay, double Momentum, bool Maximize);

/// <summary>One Adagrad step (the learning rate already decayed).</summary>
internal readonly record struct AdagradStep(double Lr, double Eps, double WeightDecay, bool Maximize);
