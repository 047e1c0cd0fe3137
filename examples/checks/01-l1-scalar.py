# l1-loss-and-guessing-game, "Introducing the L1 Loss Function"
def my_l1_loss(prediction: Tensor, target: Tensor) -> Tensor:
    return (prediction-target).abs().mean()

prediction = torch.tensor(5, dtype=torch.float16)
target = torch.tensor(2, dtype=torch.float16)

# My loss function
loss = my_l1_loss(prediction, target)
my_loss = loss

# This is the loss class that Pytorch provides.
l1_loss = nn.L1Loss()
loss = l1_loss(prediction, target)
class_loss = loss

# This is the loss function Pytorch provides.
loss = F.l1_loss(prediction, target)
