# l1-loss-and-guessing-game, "Visualizing the L1 Loss Function"
predictions = [torch.tensor(p, dtype=torch.float16) for p in range(-8, 13)]
target = torch.tensor(2, dtype=torch.float16)

display_predictions = [p.item() for p in predictions]

losses = [F.l1_loss(p, target) for p in predictions]
display_losses = [l.item() for l in losses]
