# l1-loss-and-guessing-game, "The L1 Loss Function with a Scalar", run once above and once below the label
def cell(value):
    prediction = torch.tensor(value, dtype=torch.float64)
    prediction.requires_grad_()
    label = torch.tensor(2, dtype=torch.float64)

    loss = F.l1_loss(prediction, label)
    loss.backward()
    return loss, prediction.grad

loss_above, grad_above = cell(10)
loss_below, grad_below = cell(-6)
