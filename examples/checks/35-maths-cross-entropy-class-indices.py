# loss-functions-maths, In [10] (commented out in the notebook), with integer class indices as the target;
# input is gradwire's randn (seed 0: torch.manual_seed(0); torch.randn(2, 3))
cce_loss = torch.nn.CrossEntropyLoss()
input = input.clone().requires_grad_(True)
target = torch.tensor([2, 0])  # torch.long class indices, not torch.empty(2).random_(3)'s floats
output = cce_loss(input, target)
output.backward()

# the notebook's float target is read as class probabilities, which need the input's shape
try:
    cce_loss(input, torch.empty(2).random_(3))
    float_target_refused = False
except (RuntimeError, ValueError):
    float_target_refused = True
