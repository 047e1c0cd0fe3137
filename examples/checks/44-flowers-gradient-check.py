# forward-backward-custom-function, In [10]-[16]: the notebook's square, a fixed one, and a gradient check of each
Yvar = Variable(torch.FloatTensor([0, 1 , 0, 0]), requires_grad=True)
PvarLowerLoss = Variable(torch.FloatTensor([0.001, .55 , .1, .1]), requires_grad=True)

class square(Function):
             @staticmethod
             def forward(ctx, i):
                result = i.pow(2)
                ctx.save_for_backward(result)
                return result

             @staticmethod
             def backward(ctx, grad_output):
                 result, = ctx.saved_variables
                 return grad_output

class square_fixed(Function):
    @staticmethod
    def forward(ctx, i):
        ctx.save_for_backward(i)
        return i.pow(2)

    @staticmethod
    def backward(ctx, grad_output):
        i, = ctx.saved_tensors
        return 2 * i * grad_output

def check(fn, delta=0.01):
    """backward's gradient beside central differences (L(p + delta) - L(p - delta)) / (2 delta), one element at a time."""
    p = PvarLowerLoss.detach().clone().requires_grad_(True)
    fn.apply((Yvar - p).norm()).backward()
    f = lambda q: fn.apply((Yvar - q).norm())
    with torch.no_grad():
        numerical = torch.stack([(f(PvarLowerLoss + delta * e) - f(PvarLowerLoss - delta * e)) / (2.0 * delta) for e in torch.eye(4)])
    return p.grad, numerical, (p.grad - numerical).abs().max()

autograd, numerical, max_error = check(square)
autograd_fixed, numerical_fixed, max_error_fixed = check(square_fixed)

# PyTorch's own gradcheck (in float64, as it asks) agrees: the notebook's backward fails, the fixed one passes
def gradcheck(fn):
    y = Yvar.detach().double()
    return torch.autograd.gradcheck(lambda q: fn.apply((y - q).norm()), (PvarLowerLoss.detach().double().requires_grad_(),), raise_exception=False)
