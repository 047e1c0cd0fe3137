# l1-loss-and-guessing-game, "A Bad Loss Function"
def my_bad_loss(guess: Tensor, answer: Tensor) -> Tensor:
    return (guess-answer).mean()

prediction = torch.tensor([-2, 5, 13], dtype=torch.float64)
prediction.requires_grad_()
label = torch.tensor([2, 5, 9], dtype=torch.float64)

loss = my_bad_loss(prediction, label)
loss.backward()
