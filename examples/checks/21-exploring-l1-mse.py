# exploring-loss-functions, "Regression"
y_pred = torch.tensor([1, 2.5, 4, 0.5])
y_true = torch.tensor([2, 2.5, 2, 1])
mae_loss = nn.L1Loss()
mse_loss = nn.MSELoss()
