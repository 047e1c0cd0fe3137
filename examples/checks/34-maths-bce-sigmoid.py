# loss-functions-maths, In [8]; input is gradwire's randn (seed 0: torch.manual_seed(0); torch.randn(3)) and the target is written out
bce_loss = torch.nn.BCELoss()
sigmoid = torch.nn.Sigmoid() # Ensuring inputs are between 0 and 1
input = input.clone().requires_grad_(True)
output = bce_loss(sigmoid(input), target)
output.backward()
