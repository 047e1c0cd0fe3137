# thermometer-linear-regression, In [37]-[41] and [53]-[54], recording what the loop prints
t_c = torch.tensor([0.,1.,2.,3.,4.,5.,6.,7.,8.,9.,10.,11])
t_u = torch.tensor([0.4,1.2,2.5,3.9,4.3,5.7,6.2,7.9,8.3,9.5,10.5,11.5])

def loss_fn(t_p, t_c):
    squared_diffs = (t_p - t_c) ** 2
    return squared_diffs.mean()

def dloss_fn(t_p, t_c):
    dsq_diffs = 2 * (t_p - t_c)
    return dsq_diffs

def model(t_u, w, b):
    return w * t_u + b

def dmodel_dw(t_u, w, b):
    return t_u

def dmodel_db(t_u, w, b):
    return 1.0

def grad_fn(t_u, t_c, t_p, w, b):
    dloss_dw = dloss_fn(t_p, t_c) * dmodel_dw(t_u, w, b)
    dloss_db = dloss_fn(t_p, t_c) * dmodel_db(t_u, w, b)
    return torch.stack([dloss_dw.mean(), dloss_db.mean()])

params = torch.tensor([1.0,1.0])

nepochs = 100

learning_rate = 1e-2

losses, grads, history = [], [], []
for epoch in range(nepochs):
    w, b  = params
    t_p = model(t_u, w, b)
    loss = loss_fn(t_p, t_c)
    losses.append(float(loss))

    grad = grad_fn(t_u, t_c, t_p, w, b)
    grads.append(grad)

    params = params - learning_rate * grad
    history.append(params)
