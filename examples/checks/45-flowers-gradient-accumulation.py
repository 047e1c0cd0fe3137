# forward-backward-custom-function, In [5]-[18]. Variable.pow is gone from torch; torch.pow is the same call.
Yvec = torch.FloatTensor([0, 1 , 0, 0])
Pvec = torch.FloatTensor([0.001, .5 , .1, .1]) 
PvecLowerLoss = torch.FloatTensor([0.001, .55 , .1, .1]) 

Yvar = Variable(Yvec,requires_grad=True)
Pvar = Variable(Pvec,requires_grad=True)
PvarLowerLoss = Variable(PvecLowerLoss,requires_grad=True)

L2LossVar = torch.pow((Yvar-Pvar).norm(),2)
L2LossVarLowerLoss = torch.pow((Yvar-PvarLowerLoss).norm(),2)
LossDelta=(L2LossVar.data - L2LossVarLowerLoss.data)

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

L2LossCustom = square.apply((Yvar-PvarLowerLoss).norm())

L2LossCustom.backward(gradient=LossDelta, retain_graph=True)
once = PvarLowerLoss.grad.clone()

#Calculation with the gradient not zeroed
L2LossCustom.backward(gradient=LossDelta, retain_graph=True)
twice = PvarLowerLoss.grad.clone()

L2LossCustom.backward(gradient=LossDelta, retain_graph=True)
three_times = PvarLowerLoss.grad.clone()
