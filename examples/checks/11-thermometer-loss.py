# thermometer-linear-regression, In [37]-[44]
t_c = torch.tensor([0.,1.,2.,3.,4.,5.,6.,7.,8.,9.,10.,11])
t_u = torch.tensor([0.4,1.2,2.5,3.9,4.3,5.7,6.2,7.9,8.3,9.5,10.5,11.5])

def model(t_u, w, b):
    return w * t_u + b

def loss_fn(t_p, t_c):
    squared_diffs = (t_p - t_c) ** 2
    return squared_diffs.mean()

w = torch.ones(1)
b = torch.zeros(1)

t_p = model(t_u, w, b)

# count loss function value
loss = loss_fn(t_p, t_c)

mse_loss = nn.MSELoss()
