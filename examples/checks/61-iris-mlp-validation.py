# The same training in PyTorch: Iris as gradwire's iris node holds it (X float32, y int64), random_split,
# a shuffled DataLoader, an MLP of two nn.Linear layers, and a validation pass per epoch under no_grad.
from torch.utils.data import DataLoader, TensorDataset, random_split

X, y = iris_X, iris_y
train, val = random_split(range(150), [0.8, 0.2], generator=torch.Generator().manual_seed(0))
X_val, y_val = X[val.indices], y[val.indices]
loader = DataLoader(
    TensorDataset(X[train.indices], y[train.indices]),
    batch_size=16,
    shuffle=True,
    generator=torch.Generator().manual_seed(0),
)
torch.manual_seed(1)
hidden = nn.Linear(4, 16)
torch.manual_seed(2)
output = nn.Linear(16, 3)
model = nn.Sequential(hidden, nn.ReLU(), output)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)

losses, val_losses, accuracies = [], [], []
for epoch in range(60):
    model.train()
    batch_losses = []
    for xb, yb in loader:
        loss = F.cross_entropy(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        batch_losses.append(loss.item())
    losses.append(sum(batch_losses) / len(batch_losses))
    model.eval()
    with torch.no_grad():
        logits = model(X_val)
        val_losses.append(F.cross_entropy(logits, y_val).item())
        accuracies.append((logits.argmax(1) == y_val).float().mean().item())
