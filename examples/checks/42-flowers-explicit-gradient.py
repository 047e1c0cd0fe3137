# forward-backward-custom-function, In [5]-[9]. Variable.pow is gone from torch; torch.pow is the same call.
Yvec = torch.FloatTensor([0, 1 , 0, 0])
Pvec = torch.FloatTensor([0.001, .5 , .1, .1]) 
PvecLowerLoss = torch.FloatTensor([0.001, .55 , .1, .1]) 

Yvar = Variable(Yvec,requires_grad=True)
Pvar = Variable(Pvec,requires_grad=True)
PvarLowerLoss = Variable(PvecLowerLoss,requires_grad=True)

#Simulate a training step
L2LossVar = torch.pow((Yvar-Pvar).norm(),2)
L2LossVarLowerLoss = torch.pow((Yvar-PvarLowerLoss).norm(),2)

#The is the change in loss from the simulated step
LossDelta=(L2LossVar.data - L2LossVarLowerLoss.data)

L2LossVarLowerLoss.backward(gradient=LossDelta, retain_graph=True)

firstGradientResult = PvarLowerLoss.grad.clone()
