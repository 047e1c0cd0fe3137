# l1-loss-and-guessing-game, "The L1 Loss Function with a Vector"
prediction = torch.tensor([-2, 5, 13], dtype=torch.float64)
prediction.requires_grad_()
label = torch.tensor([2, 5, 9], dtype=torch.float64)

loss = F.l1_loss(prediction, label)
loss.backward()
