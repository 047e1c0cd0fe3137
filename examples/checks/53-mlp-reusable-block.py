# The same model in PyTorch: Block is an nn.Module used twice, each instance with its own parameters
# (W drawn from randn under its own seed, as gradwire's randn nodes are).
torch.manual_seed(0)
x = torch.randn(256, 2)
labels = (x.norm(dim=1) > 1.1774).to(torch.int64)


class Block(torch.nn.Module):
    def __init__(self, inputs, seed):
        super().__init__()
        torch.manual_seed(seed)
        self.W = torch.nn.Parameter(torch.randn(16, inputs))
        self.b = torch.nn.Parameter(torch.zeros(16))

    def forward(self, input):
        return torch.tanh(F.linear(input, self.W, self.b))


block1 = Block(2, 1)
block2 = Block(16, 2)
torch.manual_seed(3)
W3 = torch.randn(2, 16, requires_grad=True)
b3 = torch.zeros(2, requires_grad=True)
optimizer = torch.optim.Adam([*block1.parameters(), *block2.parameters(), W3, b3], lr=0.05)

def forward():
    return F.linear(block2(block1(x)), W3, b3)

def accuracy(logits):
    return (torch.argmax(logits, dim=1) == labels).float().mean()

with torch.no_grad():
    initial_accuracy = accuracy(forward())

losses, history = [], []
for epoch in range(150):
    optimizer.zero_grad()
    loss = F.cross_entropy(forward(), labels)
    losses.append(loss.item())
    loss.backward()
    optimizer.step()
    history.append(b3.detach().clone())

with torch.no_grad():
    final_accuracy = accuracy(forward())
