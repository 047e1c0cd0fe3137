# l1-loss-and-guessing-game, "The Guessing Game" (the notebook calls mse without defining it: nn.MSELoss())
mse = nn.MSELoss()

guess = torch.tensor([50, 50, 50], dtype=torch.float64)
guess.requires_grad_()
answer = torch.tensor([2, 77, 91], dtype=torch.float64)
loss = mse(guess, answer)

loss.backward()
lr = 1e-1   # This is 0.1
step = lr * guess.grad.data

# The notebook's loop, with the lr of the first cell, recording what it prints
attempts = 20
answer = torch.tensor([2, 77, 91], dtype=torch.float64)
guess_ = torch.tensor([50, 50, 50], dtype=torch.float64)
guess_.requires_grad_()
losses, guesses = [], []

for attempt in range(attempts):
    loss_ = mse(guess_, answer)

    loss_.backward()
    lr = 1e-1
    step_ = lr * guess_.grad.data
    losses.append(loss_.item())
    guess_.data -= step_
    guesses.append(guess_.data.clone())
    guess_.grad = None
