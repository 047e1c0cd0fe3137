# thermometer-linear-regression, In [37]-[49]
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
loss = loss_fn(t_p, t_c)

delta = 0.1
loss_with_delta = loss_fn(model(t_u, w+delta, b), t_c)
loss_before_delta = loss_fn(model(t_u, w, b), t_c)
loss_rate_of_change_w = (loss_with_delta - loss_before_delta)
first_rate_w = loss_rate_of_change_w

learning_rate = 1e-2
w = w - learning_rate * loss_rate_of_change_w
w_1 = w

delta = 0.1
learning_rate = 1e-2

loss_rate_of_change_w = (loss_fn(model(t_u, w+delta,b), t_c) - loss_fn(model(t_u, w-delta, b), t_c)) / (2.0*delta)
w = w - learning_rate * loss_rate_of_change_w

loss_rate_of_change_b =  (loss_fn(model(t_u, w,b+delta), t_c) - loss_fn(model(t_u, w, b-delta), t_c)) / (2.0*delta)
b = b - learning_rate * loss_rate_of_change_b
