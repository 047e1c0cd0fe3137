# The same training in PyTorch: the csv node's standardized features and targets (gradwire's values of
# examples/data/delivery-times.csv), random_split by counts, a shuffled DataLoader, nn.Linear and MSE.
from torch.utils.data import DataLoader, TensorDataset, random_split

X, y = deliveries_X, deliveries_y
train, val = random_split(range(200), [160, 40], generator=torch.Generator().manual_seed(1))
X_val, y_val = X[val.indices], y[val.indices]
loader = DataLoader(
    TensorDataset(X[train.indices], y[train.indices]),
    batch_size=32,
    shuffle=True,
    generator=torch.Generator().manual_seed(0),
)
torch.manual_seed(3)
model = nn.Linear(4, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)

losses, val_mse, val_mae = [], [], []
for epoch in range(40):
    batch_losses = []
    for xb, yb in loader:
        loss = F.mse_loss(model(xb).flatten(), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        batch_losses.append(loss.item())
    losses.append(sum(batch_losses) / len(batch_losses))
    with torch.no_grad():
        prediction = model(X_val).flatten()
        val_mse.append(F.mse_loss(prediction, y_val).item())
        val_mae.append(F.l1_loss(prediction, y_val).item())
