# The same training in PyTorch: gradwire's make_moons points, random_split, a shuffled DataLoader of
# batches of 32, an MLP of two nn.Linear layers with tanh, Adam, and OneCycleLR stepped after every batch.
from torch.utils.data import DataLoader, TensorDataset, random_split

X, y = moons_X, moons_y
train, val = random_split(range(400), [0.8, 0.2], generator=torch.Generator().manual_seed(0))
X_val, y_val = X[val.indices], y[val.indices]
loader = DataLoader(
    TensorDataset(X[train.indices], y[train.indices]),
    batch_size=32,
    shuffle=True,
    generator=torch.Generator().manual_seed(0),
)
torch.manual_seed(1)
hidden = nn.Linear(2, 16)
torch.manual_seed(2)
out = nn.Linear(16, 2)
optimizer = torch.optim.Adam([*hidden.parameters(), *out.parameters()], lr=0.01)
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.05, epochs=20, steps_per_epoch=len(loader))


def model(x):
    return out(torch.tanh(hidden(x)))


losses, lrs, accuracies = [], [], []
for epoch in range(20):
    lrs.append(optimizer.param_groups[0]["lr"])
    batch_losses = []
    for xb, yb in loader:
        loss = F.cross_entropy(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        batch_losses.append(loss.item())
    losses.append(sum(batch_losses) / len(batch_losses))
    with torch.no_grad():
        accuracies.append((model(X_val).argmax(1) == y_val).float().mean().item())
