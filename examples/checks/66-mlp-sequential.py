# The same model in PyTorch: an nn.Sequential of nn.Linear and nn.ReLU layers, each nn.Linear made under its own
# seed, as gradwire's Linear nodes are.
torch.manual_seed(0)
x = torch.randn(256, 2)
labels = (x.norm(dim=1) > 1.1774).to(torch.int64)

torch.manual_seed(1)
fc1 = nn.Linear(2, 16)
torch.manual_seed(2)
fc2 = nn.Linear(16, 16)
torch.manual_seed(3)
fc3 = nn.Linear(16, 2)
model = nn.Sequential(fc1, nn.ReLU(), fc2, nn.ReLU(), fc3)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)


def accuracy(logits):
    return (torch.argmax(logits, dim=1) == labels).float().mean()


with torch.no_grad():
    initial_accuracy = accuracy(model(x))

losses, history = [], []
for epoch in range(150):
    optimizer.zero_grad()
    loss = F.cross_entropy(model(x), labels)
    losses.append(loss.item())
    loss.backward()
    optimizer.step()
    history.append(fc3.bias.detach().clone())

with torch.no_grad():
    final_accuracy = accuracy(model(x))
