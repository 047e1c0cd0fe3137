# forward-backward-custom-function, In [2]-[3] (torch.cuda.set_device(0) left out: no GPU needed)
Yvec = torch.FloatTensor([0, 1 , 0, 0])
Pvec = torch.FloatTensor([0.001, .5 , .1, .1]) 
PvecSmallError = torch.FloatTensor([0.001, .9 , .1, .1]) 

#
# First with a large error
#
L1Loss=(Yvec-Pvec).norm()
L2Loss=math.pow((Yvec-Pvec).norm(),2)
LogLoss = (-Yvec*Pvec.log()).sum()
large = (L1Loss, L2Loss, LogLoss)

#
# Now with a small error
#
L1Loss=(Yvec-PvecSmallError).norm()
L2Loss=math.pow((Yvec-PvecSmallError).norm(),2)
LogLoss = (-Yvec*PvecSmallError.log()).sum()
small = (L1Loss, L2Loss, LogLoss)
