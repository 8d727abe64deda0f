-- The costs of sealed segment ?1's rows after a reprice (`RollupTransaction.writeSealedCosts`).
UPDATE sealed_segments SET costs = ?2 WHERE segment = ?1;
