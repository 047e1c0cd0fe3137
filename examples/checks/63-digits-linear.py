# The same training in PyTorch: the 8x8 digits as gradwire's digits node holds them, scaled by 1/16,
# random_split, a shuffled DataLoader of batches of 64, one nn.Linear(64, 10) and SGD with momentum.
from torch.utils.data import DataLoader, TensorDataset, random_split

X, y = digits_X / 16, digits_y
train, val = random_split(range(1797), [0.8, 0.2], generator=torch.Generator().manual_seed(0))
X_val, y_val = X[val.indices], y[val.indices]
loader = DataLoader(
    TensorDataset(X[train.indices], y[train.indices]),
    batch_size=64,
    shuffle=True,
    generator=torch.Generator().manual_seed(0),
)
torch.manual_seed(1)
model = nn.Linear(64, 10)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

losses, accuracies = [], []
for epoch in range(15):
    batch_losses = []
    for xb, yb in loader:
        loss = F.cross_entropy(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        batch_losses.append(loss.item())
    losses.append(sum(batch_losses) / len(batch_losses))
    with torch.no_grad():
        accuracies.append((model(X_val).argmax(1) == y_val).float().mean().item())
