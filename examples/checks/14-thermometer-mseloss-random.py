# thermometer-linear-regression, In [50]; input and target are gradwire's randn with seeds 0 and 1
# (torch.manual_seed(s); torch.randn(10, 5): the same values as torch's)
loss = nn.MSELoss()
input = input.clone().requires_grad_(True)
output = loss(input,target)
output.backward()
