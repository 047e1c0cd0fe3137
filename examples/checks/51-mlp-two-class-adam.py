# The same graph in PyTorch: x, W1 and W2 are gradwire's randn values (equal to torch's for their seeds)
labels = (x.norm(dim=1) > 1.1774).to(torch.int64)
W1 = W1.clone().requires_grad_(True)
b1 = torch.zeros(16, requires_grad=True)
W2 = W2.clone().requires_grad_(True)
b2 = torch.zeros(2, requires_grad=True)
optimizer = torch.optim.Adam([W1, b1, W2, b2], lr=0.05)

def forward():
    return F.linear(torch.tanh(F.linear(x, W1, b1)), W2, b2)

def accuracy(logits):
    return (torch.argmax(logits, dim=1) == labels).float().mean()

with torch.no_grad():
    initial_accuracy = accuracy(forward())

losses, history = [], []
for epoch in range(300):
    optimizer.zero_grad()
    loss = F.cross_entropy(forward(), labels)
    losses.append(loss.item())
    loss.backward()
    optimizer.step()
    history.append(b2.detach().clone())

with torch.no_grad():
    final_accuracy = accuracy(forward())
