# The same training in PyTorch: the 8x8 digits as gradwire's digits node holds them, scaled by 1/16,
# random_split, a shuffled DataLoader of batches of 64, and a small CNN: Conv2d(1, 8, 3, padding=1), ReLU,
# a 2x2 max pool, flatten, Linear(128, 10); cross_entropy and Adam.
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
conv = nn.Conv2d(1, 8, 3, padding=1)
torch.manual_seed(2)
linear = nn.Linear(128, 10)
optimizer = torch.optim.Adam([*conv.parameters(), *linear.parameters()], lr=0.01)


def model(x):
    images = x.unflatten(1, (1, 8, 8))
    return linear(F.max_pool2d(F.relu(conv(images)), 2).flatten(1))


losses, accuracies = [], []
for epoch in range(10):
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
